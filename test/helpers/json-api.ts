import { randomUUID } from 'node:crypto';
import { LOCAL_ORG, type BridgeProcess } from './bridge-process.ts';

export interface JsonCallOptions {
  token: string;
  /** Extra headers; undefined removes a default one. */
  headers?: Record<string, string | undefined>;
}

/** Calls a JSON /api/v1 operation the way the README's curl examples do. */
export async function callJson(bridge: BridgeProcess, method: string, path: string, body: unknown, options: JsonCallOptions) {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.token}`,
    OrgId: LOCAL_ORG.orgId,
    AuthorizationContext: LOCAL_ORG.authorizationContext,
    RequestId: randomUUID(),
    'Content-Type': 'application/json',
  };
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  const res = await fetch(`${bridge.baseUrl}/api/v1${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}
