import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/** Connections kept open to the org per process; requests beyond them queue for a free one. */
const MAX_SOCKETS = 64;

const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, scheduling: 'lifo' as const };
const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

export interface UpstreamAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One request to the org over a pool of kept-alive connections (bounded per process). Node's http
 * client rather than fetch: per request it costs much less (no web streams, one abort listener), and
 * a body known in full goes with a Content-Length instead of chunked. A stream body is piped as it comes.
 */
export function upstreamRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | ReadableStream<Uint8Array> | undefined,
  signal: AbortSignal,
): Promise<UpstreamAnswer> {
  const secure = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const sized = typeof body === 'string' || body instanceof Uint8Array;
    const req = (secure ? https : http).request(url, {
      method,
      agent: secure ? agents.https : agents.http,
      headers: sized ? { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } : headers,
      signal,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    if (body === undefined) req.end();
    else if (sized) req.end(body);
    else {
      const source = Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
      source.on('error', (err) => req.destroy(err));
      source.pipe(req);
    }
  });
}
