import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

/** What one POST to an endpoint came to: its status code, or why there was none. */
export type SendResult = { statusCode: number; error: null } | { statusCode: null; error: string };

/**
 * POSTs webhook bodies over kept-alive connections, at most `maxSockets` per endpoint host. Node's
 * http client rather than fetch: per request it costs a fraction of fetch's streams and abort signals,
 * which at thousands of deliveries a second was most of the delivery path's CPU. Redirects are not
 * followed (a 3xx is a failure, as the docs say).
 */
export class WebhookSender {
  private readonly agents;

  constructor(maxSockets: number) {
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
    this.agents = { http: new http.Agent(options), https: new https.Agent(options) };
  }

  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SendResult> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const secure = url.startsWith('https:');
      let req: http.ClientRequest;
      try {
        req = (secure ? https : http).request(url, {
          method: 'POST',
          agent: secure ? this.agents.https : this.agents.http,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        });
      } catch (err) {
        settle({ statusCode: null, error: (err as Error).message });
        return;
      }
      // One timer for the whole exchange (connect, send, answer), like the fetch timeout it replaces.
      const timer = setTimeout(() => {
        settle({ statusCode: null, error: `no answer within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('response', (res) => {
        // The answer's body is not used; reading it to the end frees the connection for the next event.
        res.resume();
        res.on('end', () => settle({ statusCode: res.statusCode ?? 0, error: null }));
        res.on('error', (err) => settle({ statusCode: null, error: err.message }));
      });
      req.on('error', (err) => settle({ statusCode: null, error: err.message }));
      req.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/**
 * The Standard Webhooks signature (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the
 * secret's bytes), with each secret's key decoded once rather than per attempt.
 */
export class WebhookSigner {
  private readonly keys = new Map<string, Buffer>();

  sign(secret: string, id: string, timestampSeconds: number, body: string): string {
    let key = this.keys.get(secret);
    if (!key) {
      key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
      // Secrets rotate; a handful of endpoints is the norm, so forgetting all now and then is enough.
      if (this.keys.size >= 1000) this.keys.clear();
      this.keys.set(secret, key);
    }
    return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
  }
}
