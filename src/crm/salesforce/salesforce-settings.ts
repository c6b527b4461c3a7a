import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { hasSalesforceIdShape, KeyPrefix } from '../../contract/salesforce-ids.ts';

/**
 * Bridge mode's settings, with the variable names of Salesforce's BYOC demo app so an existing `.env`
 * carries over. Read only when SF_SCRT_INSTANCE_URL is set; every problem is reported at once.
 */
const schema = z.object({
  SF_SCRT_INSTANCE_URL: z.url(),
  SF_INSTANCE_URL: z.url().optional(),
  SF_ORG_ID: z
    .string()
    .refine((v) => hasSalesforceIdShape(v, KeyPrefix.Org), 'must be the org id (15 or 18 characters, starting with 00D)'),
  SF_CONSUMER_KEY: z.string().min(1, 'is required: the consumer key of your connected app'),
  SF_PRIVATE_KEY: z.string().optional(),
  SF_PRIVATE_KEY_FILE: z.string().optional(),
  SF_SUBJECT: z.string().min(1, 'is required: the username the bridge acts as'),
  SF_AUDIENCE: z.url().default('https://login.salesforce.com'),
  SF_AUTH_ENDPOINT: z.url().optional(),
  SF_AUTHORIZATION_CONTEXT: z.string().min(1).optional(),
  SF_PUB_SUB_ENDPOINT: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port')
    .default('api.pubsub.salesforce.com:7443'),
  SF_PUB_SUB_REJECT_UNAUTHORIZED: z.enum(['true', 'false']).default('true'),
  UPSTREAM_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  UPSTREAM_DEADLINE_MS: z.coerce.number().int().positive().default(25_000),
  UPSTREAM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  CIRCUIT_BREAKER_FAILURES: z.coerce.number().int().positive().default(5),
  CIRCUIT_BREAKER_HALF_OPEN_AFTER_MS: z.coerce.number().int().positive().default(10_000),
  BRIDGE_DEV_PARTNER_APP: z.enum(['true', 'false']).default('true'),
});

export type SalesforceSettings = NonNullable<ReturnType<typeof readSalesforceSettings>['settings']>;

export function readSalesforceSettings(env: Record<string, string>): {
  settings?: ReturnType<typeof build>;
  problems: string[];
} {
  const parsed = schema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
  const keyProblem = privateKeyProblem(env);
  if (keyProblem) problems.push(keyProblem);
  if (!parsed.success || problems.length) return { problems };
  return { settings: build(parsed.data, loadPrivateKey(env)), problems };
}

function build(e: z.infer<typeof schema>, privateKeyPem: string) {
  const audience = e.SF_AUDIENCE.replace(/\/+$/, '');
  return {
    scrtInstanceUrl: e.SF_SCRT_INSTANCE_URL.replace(/\/+$/, ''),
    instanceUrl: e.SF_INSTANCE_URL?.replace(/\/+$/, ''),
    orgId: e.SF_ORG_ID,
    consumerKey: e.SF_CONSUMER_KEY,
    privateKeyPem,
    subject: e.SF_SUBJECT,
    audience,
    authEndpoint: e.SF_AUTH_ENDPOINT ?? `${audience}/services/oauth2/token`,
    defaultAuthorizationContext: e.SF_AUTHORIZATION_CONTEXT,
    pubSubEndpoint: e.SF_PUB_SUB_ENDPOINT,
    /** false only for a test org with a self-signed certificate (such as a second bridge in local-org mode). */
    pubSubRejectUnauthorized: e.SF_PUB_SUB_REJECT_UNAUTHORIZED === 'true',
    attemptTimeoutMs: e.UPSTREAM_ATTEMPT_TIMEOUT_MS,
    deadlineMs: e.UPSTREAM_DEADLINE_MS,
    maxAttempts: e.UPSTREAM_MAX_ATTEMPTS,
    breakerFailures: e.CIRCUIT_BREAKER_FAILURES,
    breakerHalfOpenAfterMs: e.CIRCUIT_BREAKER_HALF_OPEN_AFTER_MS,
    devPartnerApp: e.BRIDGE_DEV_PARTNER_APP === 'true',
  };
}

function privateKeyProblem(env: Record<string, string>): string | undefined {
  if (env.SF_PRIVATE_KEY && env.SF_PRIVATE_KEY_FILE) return 'SF_PRIVATE_KEY and SF_PRIVATE_KEY_FILE are both set: keep one';
  if (!env.SF_PRIVATE_KEY && !env.SF_PRIVATE_KEY_FILE) {
    return 'SF_PRIVATE_KEY (PEM, newlines as \\n) or SF_PRIVATE_KEY_FILE (a path) is required: the key of your connected app certificate';
  }
  if (env.SF_PRIVATE_KEY_FILE && !fs.existsSync(env.SF_PRIVATE_KEY_FILE))
    return `SF_PRIVATE_KEY_FILE: ${env.SF_PRIVATE_KEY_FILE} does not exist`;
  try {
    createPrivateKey(loadPrivateKey(env));
  } catch {
    return `${env.SF_PRIVATE_KEY ? 'SF_PRIVATE_KEY' : 'SF_PRIVATE_KEY_FILE'} is not a readable unencrypted PEM private key`;
  }
  return undefined;
}

function loadPrivateKey(env: Record<string, string>): string {
  if (env.SF_PRIVATE_KEY_FILE) return fs.readFileSync(env.SF_PRIVATE_KEY_FILE, 'utf8');
  return (env.SF_PRIVATE_KEY ?? '').replace(/\\n/g, '\n');
}
