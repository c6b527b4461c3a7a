import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { urlToHttpOptions } from 'node:url';

/** Connections kept open to the org per process; requests beyond them queue for a free one. */
const MAX_SOCKETS = 64;

const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, scheduling: 'lifo' as const };
const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

/** Where the org is: its base URL parsed once, not with every request (Node parses a URL given as text each time). */
export interface UpstreamOrigin {
  options: http.RequestOptions;
  basePath: string;
  secure: boolean;
}

export function upstreamOrigin(baseUrl: string): UpstreamOrigin {
  const url = new URL(baseUrl);
  const { protocol, hostname, port, auth } = urlToHttpOptions(url);
  return {
    options: { protocol, hostname, port, ...(auth ? { auth } : {}) },
    basePath: url.pathname.replace(/\/+$/, ''),
    secure: protocol === 'https:',
  };
}

export interface UpstreamAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One request to the org over a pool of kept-alive connections (bounded per process). Node's http
 * client rather than fetch: per request it costs much less (no web streams), a body known in full goes
 * with a Content-Length instead of chunked (a text body in the same write as the headers), and a GET may
 * carry a body, as GET /conversationEntry's does. A stream body is piped as it comes.
 *
 * `timeoutMs` bounds the whole exchange, the answer's body included: one timer that destroys the request,
 * not an AbortSignal, whose listeners (the caller's, and http's own, removed again when the request ends)
 * cost more per request than the rest of the call's own code.
 */
export function upstreamRequest(
  origin: UpstreamOrigin,
  path: string,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | ReadableStream<Uint8Array> | undefined,
  timeoutMs: number,
): Promise<UpstreamAnswer> {
  const { secure } = origin;
  return new Promise((resolve, reject) => {
    const sized = typeof body === 'string' || body instanceof Uint8Array;
    const req = (secure ? https : http).request({
      ...origin.options,
      path: `${origin.basePath}${path}`,
      method,
      agent: secure ? agents.https : agents.http,
      headers: sized ? { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } : headers,
    });
    const timer = setTimeout(() => req.destroy(new DOMException('The operation timed out', 'TimeoutError')), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 502, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
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
