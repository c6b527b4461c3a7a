import { randomUUID } from 'node:crypto';
import { LOCAL_ORG, type BridgeProcess } from './bridge-process.ts';

export interface JsonCallOptions {
  token: string;
  /** Extra headers; undefined removes a default one. */
  headers?: Record<string, string | undefined>;
}

/**
 * An /api/v1 request with the guard's headers (a fresh RequestId each time), as the README's curl examples
 * send them; `headers` overrides or (with undefined) removes them. The answer's body is parsed when it is JSON.
 */
export async function callApi(
  bridge: BridgeProcess,
  method: string,
  path: string,
  options: JsonCallOptions & { body?: string; contentType?: string },
) {
  const defaults: Record<string, string> = {
    Authorization: `Bearer ${options.token}`,
    OrgId: LOCAL_ORG.orgId,
    AuthorizationContext: LOCAL_ORG.authorizationContext,
    RequestId: randomUUID(),
    ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
  };
  // A header given as undefined removes the default one.
  const headers = Object.fromEntries(
    Object.entries({ ...defaults, ...options.headers }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const res = await fetch(`${bridge.baseUrl}/api/v1${path}`, { method, headers, body: options.body });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Calls a JSON /api/v1 operation the way the README's curl examples do. */
export async function callJson(bridge: BridgeProcess, method: string, path: string, body: unknown, options: JsonCallOptions) {
  const { status, body: answer } = await callApi(bridge, method, path, {
    ...options,
    contentType: 'application/json',
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status, body: answer };
}
