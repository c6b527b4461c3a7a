import { randomBytes } from 'node:crypto';
import express, { type Router } from 'express';
import { importX509 } from 'jose';
import { z } from 'zod';
import { managementError } from '../contract/management-errors.ts';
import type { ManagementAppDeps } from './management-app.ts';
import type { ManagementOperation } from './openapi/operation.ts';

const registration = z.object({
  consumerKey: z.string().min(8).max(255).optional(),
  certificatePem: z.string().min(1),
  scopes: z.string().default('interaction_api api refresh_token'),
});

export const connectedAppOperations: ManagementOperation[] = [
  {
    method: 'get',
    path: '/api/connected-apps',
    tag: 'Org',
    summary: 'Connected apps partners authenticate with',
    responses: { 200: '`{connectedApps: [...]}`' },
  },
  {
    method: 'post',
    path: '/api/connected-apps',
    tag: 'Org',
    summary: 'Register a connected app: the certificate whose key signs the partner’s JWT assertions',
    body: registration,
    responses: {
      201: 'The connected app.',
      400: 'The body or certificate is not valid (`invalid_request`).',
      409: 'The consumer key is taken.',
    },
  },
  {
    method: 'delete',
    path: '/api/connected-apps/:consumerKey',
    tag: 'Org',
    summary: 'Remove a connected app and revoke its tokens',
    responses: { 204: 'Removed.', 404: 'No such connected app.' },
  },
];

const view = (a: { consumer_key: string; scopes: string; active: number; created_at: number }) => ({
  consumerKey: a.consumer_key,
  scopes: a.scopes,
  active: Boolean(a.active),
  createdAt: new Date(a.created_at).toISOString(),
});

/**
 * Connected apps partners authenticate with (JWT bearer: consumer key + the certificate whose key signs
 * their assertions). `GET/POST /api/connected-apps`, `DELETE /api/connected-apps/{consumerKey}`.
 */
export function connectedAppRoutes(deps: Pick<ManagementAppDeps, 'db' | 'orgId' | 'tokens'>): Router {
  const router = express.Router();

  router.get('/connected-apps', async (_req, res) => {
    const apps = await deps.db.selectFrom('connected_apps').selectAll().where('org_id', '=', deps.orgId).orderBy('created_at').execute();
    res.json({ connectedApps: apps.map(view) });
  });

  router.post('/connected-apps', async (req, res) => {
    const parsed = registration.safeParse(req.body);
    if (!parsed.success) {
      throw managementError(
        'invalid_request',
        'Send {"certificatePem": "-----BEGIN CERTIFICATE-----...", "consumerKey"?: string, "scopes"?: string}.',
      );
    }
    try {
      await importX509(parsed.data.certificatePem, 'RS256');
    } catch {
      throw managementError('invalid_request', 'certificatePem is not a PEM X.509 certificate with an RSA key.');
    }
    const consumerKey = parsed.data.consumerKey ?? `3MVG9${randomBytes(24).toString('base64url')}`;
    const inserted = await deps.db
      .insertInto('connected_apps')
      .values({
        consumer_key: consumerKey,
        org_id: deps.orgId,
        certificate_pem: parsed.data.certificatePem,
        scopes: parsed.data.scopes,
        active: 1,
        created_at: Date.now(),
      })
      .onConflict((oc) => oc.column('consumer_key').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) {
      throw managementError('conflict', `A connected app with consumer key "${consumerKey}" already exists.`);
    }
    const app = await deps.db.selectFrom('connected_apps').selectAll().where('consumer_key', '=', consumerKey).executeTakeFirstOrThrow();
    res.status(201).json(view(app));
  });

  router.delete('/connected-apps/:consumerKey', async (req, res) => {
    const consumerKey = req.params.consumerKey;
    const deleted = await deps.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('access_tokens').where('consumer_key', '=', consumerKey).execute();
      return trx.deleteFrom('connected_apps').where('consumer_key', '=', consumerKey).where('org_id', '=', deps.orgId).executeTakeFirst();
    });
    deps.tokens.forgetConsumerKey(consumerKey);
    if (Number(deleted.numDeletedRows) !== 1) throw managementError('not_found', `No connected app "${consumerKey}".`);
    res.status(204).end();
  });

  return router;
}
