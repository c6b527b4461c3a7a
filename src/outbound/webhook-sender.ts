import { createHmac } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';

/** What one POST to an endpoint came to: its status code, or why there was none. */
export type SendResult = { statusCode: number; error: null } | { statusCode: null; error: string };

/** Where a webhook URL sends to, parsed once per URL. */
interface Target {
  origin: string;
  path: string;
  /** From credentials in the URL (`https://user:pass@host/…`), as node's http client made it. */
  authorization: string | undefined;
}

/** Endpoints are a handful; forgetting all now and then bounds the cache if URLs keep changing. */
const TARGET_CACHE_LIMIT = 1000;

function parseTarget(url: string): Target {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`Protocol "${parsed.protocol}" not supported. Expected "http:" or "https:"`);
  }
  const credentials =
    parsed.username || parsed.password ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` : undefined;
  return {
    origin: parsed.origin,
    path: `${parsed.pathname}${parsed.search}`,
    authorization: credentials === undefined ? undefined : `Basic ${Buffer.from(credentials).toString('base64')}`,
  };
}

/**
 * POSTs webhook bodies through undici's agent: a pool of kept-alive connections per endpoint origin, at
 * most `maxSockets` each. undici's dispatch rather than node's http client: per request it spares the
 * ClientRequest and IncomingMessage streams, which at thousands of deliveries a second were a good part
 * of the delivery path's CPU. Redirects are not followed (a 3xx is a failure, as the docs say).
 */
export class WebhookSender {
  private readonly agent: Agent;
  private readonly targets = new Map<string, Target>();

  constructor(maxSockets: number) {
    // undici's own connect, header and body timeouts are off: one timer per POST bounds the whole exchange.
    this.agent = new Agent({ connections: maxSockets, connectTimeout: 0, headersTimeout: 0, bodyTimeout: 0 });
  }

  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SendResult> {
    return new Promise((resolve) => {
      let target: Target;
      try {
        target = this.target(url);
      } catch (err) {
        resolve({ statusCode: null, error: (err as Error).message });
        return;
      }
      let settled = false;
      let controller: Dispatcher.DispatchController | undefined;
      const settle = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      // One timer for the whole exchange (connect, send, answer), waiting for a connection included.
      const timer = setTimeout(() => {
        settle({ statusCode: null, error: `no answer within ${timeoutMs} ms` });
        controller?.abort(new Error('webhook timed out'));
      }, timeoutMs);
      let statusCode = 0;
      this.agent.dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: 'POST',
          headers: target.authorization ? { ...headers, authorization: target.authorization } : headers,
          body,
        },
        {
          onRequestStart(started) {
            controller = started;
            // Timed out while waiting for a connection: it goes no further.
            if (settled) started.abort(new Error('webhook timed out'));
          },
          onResponseStart(_c, status) {
            statusCode = status;
          },
          // The answer's body is not used; reading it to the end frees the connection for the next event.
          onResponseData() {},
          onResponseEnd() {
            settle({ statusCode, error: null });
          },
          onResponseError(_c, err) {
            settle({ statusCode: null, error: err.message });
          },
        },
      );
    });
  }

  private target(url: string): Target {
    let target = this.targets.get(url);
    if (!target) {
      target = parseTarget(url);
      if (this.targets.size >= TARGET_CACHE_LIMIT) this.targets.clear();
      this.targets.set(url, target);
    }
    return target;
  }

  close(): Promise<void> {
    return this.agent.destroy();
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
