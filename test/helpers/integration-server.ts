import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface RecordedRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Which check the request passed: basic, digest, header, or none. */
  authenticated: string | null;
}

export type Handler = (req: RecordedRequest, count: number) => { status: number; body?: unknown; delayMs?: number };

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/**
 * The service an integration calls, outside the bridge: HTTPS with a certificate made here (written to
 * `caFile` for the bridge's INTEGRATION_CA_FILE), recording every request. A path under `/basic/`,
 * `/digest/` or `/header/` demands that authentication; `/digest-sha256/` demands digest with SHA-256
 * (one challenge), `/digest-strongest/` too while offering MD5 first and SHA-256 second in one header.
 * The digest check is written here from RFC 7616, independently of the bridge's client, and the tests
 * hold it to libcurl's computation (`curl --digest`).
 */
export async function startIntegrationServer(options: {
  dir: string;
  users: Record<string, string>;
  apiKey: { header: string; value: string };
  handlers?: Record<string, Handler>;
}) {
  const notBefore = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: 'integration-test-service' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: new Date(notBefore.getTime() + 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const caFile = path.join(options.dir, 'integration-service-ca.pem');
  fs.writeFileSync(caFile, pems.cert);
  const realm = 'integrations@test';
  const nonces = new Set<string>();
  const requests: RecordedRequest[] = [];
  const counts = new Map<string, number>();

  const checkBasic = (header: string | undefined) => {
    const m = /^Basic (.+)$/.exec(header ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const at = decoded.indexOf(':');
    const user = decoded.slice(0, at);
    return at > 0 && options.users[user] === decoded.slice(at + 1);
  };
  /** The algorithm of a valid digest answer (MD5 or SHA-256), or null. */
  const checkDigest = (header: string | undefined, method: string, url: string) => {
    const m = /^Digest (.+)$/.exec(header ?? '');
    if (!m) return null;
    const fields: Record<string, string> = {};
    for (const part of m[1]!.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) fields[part[1]!] = part[2] ?? part[3] ?? '';
    const password = options.users[fields.username ?? ''];
    if (password === undefined || fields.realm !== realm || !nonces.has(fields.nonce ?? '') || fields.uri !== url) return null;
    if (fields.qop !== 'auth' || !/^[0-9a-f]{8}$/.test(fields.nc ?? '') || !fields.cnonce) return null;
    const algorithm = fields.algorithm ?? 'MD5';
    const hash = HASHES[algorithm];
    if (!hash) return null;
    const h = (s: string) => createHash(hash).update(s).digest('hex');
    const ha1 = h(`${fields.username}:${realm}:${password}`);
    const ha2 = h(`${method}:${fields.uri}`);
    return fields.response === h(`${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:auth:${ha2}`) ? algorithm : null;
  };
  const digestChallenge = (algorithm: string) => {
    const nonce = randomBytes(16).toString('hex');
    nonces.add(nonce);
    return `Digest realm="${realm}", qop="auth", algorithm=${algorithm}, nonce="${nonce}", opaque="${randomBytes(8).toString('hex')}"`;
  };

  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const url = req.url ?? '/';
      const pathname = url.split('?')[0]!;
      const recorded: RecordedRequest = { method: req.method ?? '', url, headers: req.headers, body, authenticated: null };
      /** Sends the answer; true, so a refusal can `return answer(...)`. */
      const answer = (status: number, payload?: unknown, extra: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...extra });
        res.end(payload === undefined ? '' : JSON.stringify(payload));
        return true;
      };
      if (pathname.startsWith('/basic/')) {
        if (!checkBasic(req.headers.authorization))
          return answer(401, { error: 'basic credentials needed' }, { 'www-authenticate': `Basic realm="${realm}"` });
        recorded.authenticated = 'basic';
      } else if (/^\/digest(-sha256|-strongest)?\//.test(pathname)) {
        const wanted = pathname.startsWith('/digest/') ? 'MD5' : 'SHA-256';
        if (checkDigest(req.headers.authorization, req.method ?? '', url) !== wanted) {
          const offered = pathname.startsWith('/digest-strongest/')
            ? [digestChallenge('MD5'), digestChallenge('SHA-256')]
            : [digestChallenge(wanted)];
          return answer(401, { error: 'digest credentials needed' }, { 'www-authenticate': offered.join(', ') });
        }
        recorded.authenticated = wanted === 'MD5' ? 'digest' : 'digest-sha256';
      } else if (pathname.startsWith('/header/')) {
        if (req.headers[options.apiKey.header] !== options.apiKey.value) {
          answer(403, { error: 'api key needed' });
          return;
        }
        recorded.authenticated = 'header';
      }
      requests.push(recorded);
      const name = pathname
        .split('/')
        .filter(Boolean)
        .find((segment) => options.handlers?.[segment]);
      const count = (counts.get(name ?? '') ?? 0) + 1;
      counts.set(name ?? '', count);
      const result = name ? options.handlers![name]!(recorded, count) : { status: 200, body: { ok: true } };
      const send = () => answer(result.status, result.body);
      if (result.delayMs) setTimeout(send, result.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The listening socket alone must not keep a test process alive (its connections still do while open).
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    caFile,
    baseUrl: `https://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
