import { randomUUID } from 'node:crypto';
import { signAssertion } from '../../src/auth/assertion-signer.ts';
import { LOCAL_ORG, type BridgeProcess } from './bridge-process.ts';
import { callApi } from './json-api.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export async function requestToken(bridge: BridgeProcess, assertion: string) {
  const res = await fetch(`${bridge.baseUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** A real access token for the seeded org, through the JWT bearer flow. */
export async function accessToken(bridge: BridgeProcess): Promise<string> {
  const assertion = await signAssertion(bridge.privateKeyPem(), {
    consumerKey: LOCAL_ORG.consumerKey,
    username: LOCAL_ORG.username,
    audience: bridge.baseUrl,
  });
  const { status, body } = await requestToken(bridge, assertion);
  if (status !== 200) throw new Error(`token request failed: ${status} ${JSON.stringify(body)}`);
  return body.access_token!;
}

export function textMessage(text: string, options: { id?: string; from?: string; to?: string; extra?: Record<string, unknown> } = {}) {
  const id = options.id ?? randomUUID();
  return {
    to: options.to ?? LOCAL_ORG.channel,
    from: options.from ?? LOCAL_ORG.endUser,
    ...options.extra,
    interactions: [
      {
        timestamp: Date.now(),
        interactionType: 'EntryInteraction',
        payload: {
          id,
          entryType: 'Message',
          abstractMessage: { messageType: 'StaticContentMessage', id, staticContent: { formatType: 'Text', text } },
        },
      },
    ],
  };
}

export function entryRequest(payload: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    to: LOCAL_ORG.channel,
    from: LOCAL_ORG.endUser,
    ...extra,
    interactions: [{ timestamp: Date.now(), interactionType: 'EntryInteraction', payload: { id: randomUUID(), ...payload } }],
  };
}

export interface PostOptions {
  token: string;
  headers?: Record<string, string | undefined>;
  /** Send the json part as text with `;type=application/json` (the default) or as a plain field. */
  jsonPartType?: 'application/json' | 'none';
  rawJson?: string;
}

/** Posts an interaction request as multipart/form-data, the way the curl examples do. */
export async function postInteraction(bridge: BridgeProcess, body: unknown, options: PostOptions) {
  const json = options.rawJson ?? JSON.stringify(body);
  const part = multipartField(
    'json',
    json,
    (options.jsonPartType ?? 'application/json') === 'application/json' ? 'application/json' : undefined,
  );
  return callApi(bridge, 'POST', '/interactions', {
    token: options.token,
    headers: options.headers,
    contentType: `multipart/form-data; boundary=${part.boundary}`,
    body: part.body,
  });
}

/** One multipart field the way curl's `-F "name=value;type=..."` sends it: no filename, optional Content-Type. */
export function multipartField(name: string, value: string, contentType?: string) {
  const boundary = `----byoc-test-${randomUUID()}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n${contentType ? `Content-Type: ${contentType}\r\n` : ''}\r\n`;
  return { boundary, body: `${head}${value}\r\n--${boundary}--\r\n` };
}
