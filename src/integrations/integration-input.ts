import { z } from 'zod';
import { LIFECYCLE_EVENTS } from './lifecycle.ts';

/**
 * What the management API accepts for an integration. One place for every rule about its shape; the rules
 * that need the store (queues exist, referenced authentications exist) are in integration-store.ts.
 */
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** `basic:<user>`, `digest:<user>`, or a chosen name for a header value (API key, token). */
export const AUTH_ID = /^(?:(?:basic|digest):[^\s:]{1,128}|[A-Za-z][\w-]{0,63})$/;
/** Where `response.set` may write: routing attributes, data for the agent, or the queue routing uses. */
export const SET_TARGET = /^(?:routingAttributes\.[\w-]{1,80}|agentData\.[\w-]{1,80}|routing\.queueId)$/;
const SAVE_NAME = /^[\w-]{1,80}$/;
const jsonPath = z.string().min(1).max(500).regex(/^\$/, 'must be a JSONPath starting with $');

/** A map of JSONPaths whose keys follow `pattern` (zod's own record-key error names no key). */
const keyedBy = (pattern: RegExp, message: string) =>
  z.record(z.string(), jsonPath).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      if (!pattern.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `key ${message}` });
    }
  });

const scalar = z.union([z.string().max(4000), z.number(), z.boolean()]);
export const configurationSchema = z
  .object({
    request: z
      .object({
        authentication: z
          .object({ type: z.enum(['basic', 'digest']), id: z.string().regex(AUTH_ID).optional() })
          .nullable()
          .optional(),
        method: z.enum(HTTP_METHODS).default('POST'),
        headers: z.record(z.string().min(1).max(200), z.string().max(4000)).default({}),
        params: z.record(z.string().min(1).max(200), scalar).default({}),
        body: z.unknown().optional(),
      })
      .default({ method: 'POST', headers: {}, params: {} }),
    response: z
      .object({
        set: keyedBy(SET_TARGET, 'must be routingAttributes.<name>, agentData.<name> or routing.queueId').default({}),
        save: keyedBy(SAVE_NAME, 'must be a name of letters, digits, _ or -').default({}),
      })
      .default({ set: {}, save: {} }),
  })
  .refine((c) => c.request.method !== 'GET' || c.request.body === undefined, {
    error: 'a GET request has no body',
    path: ['request', 'body'],
  });
export type IntegrationConfiguration = z.infer<typeof configurationSchema>;

const authentication = z.object({
  id: z.string().regex(AUTH_ID, 'must be basic:<username>, digest:<username> or a name of letters, digits, _ or -'),
  /** Omitted on an update: the stored secret is kept. */
  secret: z.string().min(1).max(2000).optional(),
});

export const integrationInput = z.object({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(1000).nullable().optional(),
  url: z.string().min(1).max(2000),
  direction: z.enum(['Inbound', 'Outbound', 'Both']).default('Both'),
  events: z
    .array(z.enum(LIFECYCLE_EVENTS))
    .max(LIFECYCLE_EVENTS.length)
    .default([])
    .refine((e) => new Set(e).size === e.length, 'lists an event twice'),
  directConversations: z.boolean().default(false),
  queueIds: z
    .array(z.string().regex(/^00G[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, 'must be a queue id (00G…)'))
    .max(100)
    .default([]),
  authentications: z
    .array(authentication)
    .max(20)
    .refine((a) => new Set(a.map((x) => x.id)).size === a.length, 'lists an authentication id twice')
    .optional(),
  configuration: configurationSchema.default({
    request: { method: 'POST', headers: {}, params: {} },
    response: { set: {}, save: {} },
  }),
});
export type IntegrationInput = z.infer<typeof integrationInput>;

export const callQuery = z.object({
  integrationId: z.string().optional(),
  conversationIdentifier: z.string().optional(),
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * HTTPS only; `http://` only to a loopback host and only when INTEGRATION_ALLOW_HTTP_LOOPBACK is on.
 * Checked on the template (placeholders stood in for) when saved and on the resolved URL before each call.
 * Returns the problem, or undefined.
 */
export function urlProblem(url: string, allowHttpLoopback: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/\{[^}]*\}/g, 'x'));
  } catch {
    return 'is not a URL';
  }
  if (parsed.username || parsed.password) return 'must not carry credentials: use an authentication';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && allowHttpLoopback && LOOPBACK_HOSTS.has(parsed.hostname)) return undefined;
  return allowHttpLoopback ? 'must be https:// (http:// only to a loopback host)' : 'must be https://';
}
