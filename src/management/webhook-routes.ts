import express, { type Router } from 'express';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { managementError } from '../contract/management-errors.ts';
import { parseInput } from './parse-input.ts';
import type { ManagementOperation } from './openapi/operation.ts';
import { DELIVERY_STATUSES, type WebhookEndpoints } from '../outbound/webhook-endpoints.ts';

const secret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, 'must be a Standard Webhooks secret: whsec_ followed by base64 (at least 18 bytes)')
  .refine((s) => {
    try {
      new Webhook(s);
      return true;
    } catch {
      return false;
    }
  }, 'is not valid base64');
const newEndpoint = z.object({
  url: z.url().refine((u) => /^https?:/i.test(u), 'must be an http(s) URL'),
  eventTypes: z.array(z.string().min(1).max(100)).max(50).optional(),
  channelAddressIdentifier: z.string().min(1).max(240).optional(),
  secret: secret.optional(),
  description: z.string().max(500).optional(),
});
const deliveryQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  endpointId: z.string().optional(),
  eventId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const rotation = z.object({ secret: secret.optional() });

export const webhookOperations: ManagementOperation[] = [
  {
    method: 'post',
    path: '/api/webhooks',
    tag: 'Outbound',
    summary: 'Register a webhook endpoint; this answer is the only one that carries its signing secret (generated unless given): keep it',
    body: newEndpoint,
    responses: { 201: 'The endpoint with its secret.', 400: 'The body is not valid (`invalid_request`).' },
  },
  {
    method: 'get',
    path: '/api/webhooks',
    tag: 'Outbound',
    summary: 'Webhook endpoints, without their secrets',
    responses: { 200: '`{webhooks: [...]}`' },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id',
    tag: 'Outbound',
    summary: 'One webhook endpoint, without its secret',
    responses: { 200: 'The endpoint.', 404: 'No such endpoint.' },
  },
  {
    method: 'delete',
    path: '/api/webhooks/:id',
    tag: 'Outbound',
    summary: 'Remove a webhook endpoint and its delivery records',
    responses: { 204: 'Removed.', 404: 'No such endpoint.' },
  },
  {
    method: 'post',
    path: '/api/webhooks/:id/rotate-secret',
    tag: 'Outbound',
    summary:
      'Replace the endpoint’s signing secret (a new one is generated unless given); later attempts are signed with it. The answer is the only one that carries the new secret',
    body: rotation,
    responses: { 200: 'The endpoint with its new secret.', 400: 'The secret is not valid (`invalid_request`).', 404: 'No such endpoint.' },
  },
  {
    method: 'get',
    path: '/api/deliveries',
    tag: 'Outbound',
    summary: 'Webhook deliveries, newest event first, with status, attempts and the last answer',
    query: deliveryQuery,
    responses: { 200: '`{deliveries: [...]}`', 400: 'A query parameter is not valid (`invalid_request`).' },
  },
  {
    method: 'post',
    path: '/api/deliveries/:id/retry',
    tag: 'Outbound',
    summary: 'Send a dead-lettered delivery again',
    responses: { 202: 'The delivery, pending again.', 404: 'No such delivery.', 409: 'The delivery is not dead-lettered.' },
  },
];

/**
 * The signing secret is shown once, in the answer that sets it (create, rotate), like an API key: a GET
 * never returns it, so a leaked admin-key session or a log of answers does not leak every endpoint's secret.
 */
function withoutSecret<T extends { secret?: unknown }>(endpoint: T): Omit<T, 'secret'> {
  const { secret: _secret, ...rest } = endpoint;
  return rest;
}

/** `POST/GET/DELETE /api/webhooks`, `GET /api/deliveries`, `POST /api/deliveries/{id}/retry`. */
export function webhookRoutes(deps: { webhooks: WebhookEndpoints }): Router {
  const router = express.Router();
  router.post('/webhooks', async (req, res) => {
    res.status(201).json(await deps.webhooks.create(parseInput(newEndpoint, req.body)));
  });
  router.get('/webhooks', async (_req, res) => {
    res.json({ webhooks: (await deps.webhooks.list()).map(withoutSecret) });
  });
  router.post('/webhooks/:id/rotate-secret', async (req, res) => {
    const endpoint = await deps.webhooks.rotateSecret(req.params.id, parseInput(rotation, req.body).secret);
    if (!endpoint) throw managementError('not_found', `No webhook endpoint "${req.params.id}".`);
    res.json(endpoint);
  });
  router.get('/webhooks/:id', async (req, res) => {
    const endpoint = await deps.webhooks.get(req.params.id);
    if (!endpoint) throw managementError('not_found', `No webhook endpoint "${req.params.id}".`);
    res.json(withoutSecret(endpoint));
  });
  router.delete('/webhooks/:id', async (req, res) => {
    if (!(await deps.webhooks.delete(req.params.id))) throw managementError('not_found', `No webhook endpoint "${req.params.id}".`);
    res.status(204).end();
  });

  router.get('/deliveries', async (req, res) => {
    res.json({ deliveries: await deps.webhooks.listDeliveries(parseInput(deliveryQuery, req.query)) });
  });
  router.post('/deliveries/:id/retry', async (req, res) => {
    const delivery = await deps.webhooks.getDelivery(req.params.id);
    if (!delivery) throw managementError('not_found', `No delivery "${req.params.id}".`);
    if (!(await deps.webhooks.retry(req.params.id))) {
      throw managementError('conflict', `Delivery "${req.params.id}" is ${delivery.status}; only a dead-lettered delivery can be retried.`);
    }
    res.status(202).json(await deps.webhooks.getDelivery(req.params.id));
  });
  return router;
}
