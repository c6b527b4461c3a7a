import { signAssertion } from './assertion-signer.ts';

export interface UpstreamCredentials {
  authEndpoint: string;
  consumerKey: string;
  privateKeyPem: string;
  subject: string;
  audience: string;
}

export interface UpstreamToken {
  accessToken: string;
  instanceUrl?: string;
  obtainedAt: number;
}

/** The org's token endpoint refused or could not be reached; the message names the setting to look at. */
export class UpstreamTokenError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'UpstreamTokenError';
  }
}

/**
 * Gets the bridge's own access token from the org with the OAuth 2.0 JWT bearer flow (a fresh, short-lived
 * RS256 assertion each time), caches it, and shares one refresh among all concurrent callers.
 */
export class UpstreamTokenClient {
  private current?: UpstreamToken;
  private inFlight?: Promise<UpstreamToken>;

  constructor(
    private readonly credentials: UpstreamCredentials,
    private readonly options: { timeoutMs: number; maxAgeMs?: number } = { timeoutMs: 10_000 },
  ) {}

  async token(): Promise<UpstreamToken> {
    const c = this.current;
    if (c && (!this.options.maxAgeMs || Date.now() - c.obtainedAt < this.options.maxAgeMs)) return c;
    return this.fetchShared();
  }

  /** Replaces `rejected` (refused by the org with 401); callers holding a newer token just get that one. */
  async refresh(rejected: string): Promise<UpstreamToken> {
    if (this.current && this.current.accessToken !== rejected) return this.current;
    this.current = undefined;
    return this.fetchShared();
  }

  private fetchShared(): Promise<UpstreamToken> {
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchToken(): Promise<UpstreamToken> {
    const { authEndpoint, consumerKey, privateKeyPem, subject, audience } = this.credentials;
    let assertion: string;
    try {
      assertion = await signAssertion(privateKeyPem, { consumerKey, username: subject, audience });
    } catch (err) {
      throw new UpstreamTokenError(`cannot sign the JWT assertion with SF_PRIVATE_KEY: ${(err as Error).message}`, false);
    }
    let res: Response;
    try {
      res = await fetch(authEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new UpstreamTokenError(`SF_AUTH_ENDPOINT ${authEndpoint} is unreachable: ${cause}`, true);
    }
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      // Only an object can carry a token; any other JSON is reported below like unparsable text.
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    if (!res.ok || typeof body.access_token !== 'string') {
      const reason = body.error
        ? `${asText(body.error)}: ${asText(body.error_description ?? '')}`
        : `HTTP ${res.status} ${text.slice(0, 200)}`;
      throw new UpstreamTokenError(
        `the org's token endpoint (SF_AUTH_ENDPOINT) refused the assertion — ${reason}. Check SF_CONSUMER_KEY, SF_SUBJECT, SF_AUDIENCE and SF_PRIVATE_KEY.`,
        res.status >= 500,
      );
    }
    this.current = {
      accessToken: body.access_token,
      instanceUrl: typeof body.instance_url === 'string' ? body.instance_url : undefined,
      obtainedAt: Date.now(),
    };
    return this.current;
  }
}

/** An OAuth error field is a string; anything else the endpoint sends is shown as its JSON. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
