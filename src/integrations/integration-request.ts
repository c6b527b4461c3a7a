import type { IntegrationConfiguration } from './integration-input.ts';
import { resolveJson, resolveUrl, SECRET_MASK, type PlaceholderContext, type Resolution } from './placeholders.ts';

/** An HTTP request ready to send, and the same request as the call log shows it (every secret masked). */
export interface BuiltRequest {
  method: IntegrationConfiguration['request']['method'];
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** basic or digest credentials, for the HTTP client to apply (digest needs the server's challenge). */
  credentials?: { scheme: 'basic' | 'digest'; username: string; password: string };
}

export interface LoggedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  authentication?: { type: 'basic' | 'digest'; id: string };
}

export class IntegrationRequestError extends Error {}

/**
 * Resolves an integration's URL template and request configuration for one event. Resolved twice — once
 * with the secrets, once with them masked — so what is logged can never carry one.
 */
export function buildRequest(
  urlTemplate: string,
  request: IntegrationConfiguration['request'],
  ctx: PlaceholderContext,
): { send: BuiltRequest; logged: LoggedRequest } {
  const one = (mode: Resolution) => {
    const resolved = resolveJson({ headers: request.headers, params: request.params, body: request.body }, ctx, mode) as {
      headers: Record<string, string>;
      params: Record<string, unknown>;
      body: unknown;
    };
    const url = new URL(resolveUrl(urlTemplate, ctx, mode));
    for (const [k, v] of Object.entries(resolved.params)) url.searchParams.append(k, String(v));
    const headers: Record<string, string> = { 'user-agent': 'byoc-bridge-integrations/1', ...lowerKeys(resolved.headers) };
    const hasBody = resolved.body !== undefined && request.method !== 'GET';
    if (hasBody && !headers['content-type']) headers['content-type'] = 'application/json';
    return { url: url.toString(), headers, body: hasBody ? resolved.body : undefined };
  };
  const send = one('send');
  const logged = one('masked');
  const auth = request.authentication ? pickAuthentication(request.authentication, ctx.authentications) : undefined;
  return {
    send: {
      method: request.method,
      url: send.url,
      headers: send.headers,
      body: send.body === undefined ? undefined : typeof send.body === 'string' ? send.body : JSON.stringify(send.body),
      ...(auth ? { credentials: { scheme: auth.type, username: auth.username, password: auth.secret } } : {}),
    },
    logged: {
      method: request.method,
      url: logged.url,
      headers: auth ? { ...logged.headers, authorization: `${auth.type === 'basic' ? 'Basic' : 'Digest'} ${SECRET_MASK}` } : logged.headers,
      body: logged.body,
      ...(auth ? { authentication: { type: auth.type, id: auth.id } } : {}),
    },
  };
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The authentication `request.authentication` names: by id, or the integration's only one of that type. */
function pickAuthentication(ref: { type: 'basic' | 'digest'; id?: string | undefined }, secrets: Record<string, string>) {
  const candidates = Object.keys(secrets).filter((id) => id.startsWith(`${ref.type}:`) && (!ref.id || ref.id === id));
  if (candidates.length !== 1) {
    throw new IntegrationRequestError(
      candidates.length === 0
        ? `no ${ref.type} authentication ${ref.id ?? `(${ref.type}:<username>)`} is defined`
        : `several ${ref.type} authentications are defined: name one in request.authentication.id`,
    );
  }
  const [id] = candidates as [string];
  return { type: ref.type, id, username: id.slice(ref.type.length + 1), secret: secrets[id] ?? '' };
}

/** Replaces every secret in a text (an answer excerpt, an error) with the mask: a service echoing one must not leak it. */
export function scrubSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join(SECRET_MASK);
  return out;
}
