import { randomUUID } from 'node:crypto';
import http from 'node:http';
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
  const defaults: Record<string, string | undefined> = {
    Authorization: `Bearer ${options.token}`,
    OrgId: LOCAL_ORG.orgId,
    AuthorizationContext: LOCAL_ORG.authorizationContext,
    RequestId: randomUUID(),
    ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
  };
  const headers = Object.fromEntries(
    Object.entries({ ...defaults, ...options.headers }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const url = `${bridge.baseUrl}/api/v1${path}`;
  // fetch refuses a body on GET; the contract gives GET /conversationEntry one, so that goes by node:http.
  const res =
    method === 'GET' && options.body !== undefined
      ? await getWithBody(url, headers, options.body)
      : await fetch(url, { method, headers, body: options.body });
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

/** A GET with a body, answered in fetch's terms (status, headers, text). */
export function getWithBody(url: string, headers: Record<string, string>, body: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') answer.set(k, v);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: answer }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
