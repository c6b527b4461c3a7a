import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry, wrap } from 'cockatiel';
import type { Logger } from 'pino';
import { ApiError } from '../../contract/api-error.ts';
import { apiError } from '../../contract/interaction-errors.ts';
import type { CrmResponse } from '../crm-port.ts';
import { UpstreamTokenError, type UpstreamTokenClient } from '../../auth/upstream-token-client.ts';
import { upstreamOrigin, upstreamRequest, type UpstreamAnswer, type UpstreamOrigin } from './upstream-http.ts';
import type { SalesforceSettings } from './salesforce-settings.ts';
import type { UpstreamObserver } from '../../metrics/bridge-metrics.ts';

/** One request to the org. `body` is a factory because a retried request needs a fresh body stream. */
export interface UpstreamRequest {
  method: string;
  path: string;
  requestId: string;
  authorizationContext: string;
  headers?: Record<string, string>;
  body?: () => { contentType: string; data: string | Uint8Array | ReadableStream<Uint8Array> };
}

/** The org's answer headers the partner may act on: when to retry, and what the body is. */
function passedBackHeaders(headers: UpstreamAnswer['headers']): Record<string, string> {
  const passed: Record<string, string> = {};
  const retryAfter = headers['retry-after'];
  const contentType = headers['content-type'];
  if (typeof retryAfter === 'string') passed['Retry-After'] = retryAfter;
  if (typeof contentType === 'string') passed['Content-Type'] = contentType;
  return passed;
}

/**
 * A signal that aborts after `ms`, and clear() to drop its timer once the work is done. Not
 * AbortSignal.timeout: that keeps its timer alive until it fires (the deadline is 25 s), and on Node 20
 * costs tens of µs per request (measured with thousands of deadlines pending).
 */
function abortAfter(ms: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('The operation timed out', 'TimeoutError')), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** A failure worth another attempt: the org timed out, was unreachable, or answered 5xx / 429. */
class RetryableUpstreamError extends Error {
  constructor(
    message: string,
    readonly response?: CrmResponse,
  ) {
    super(message);
  }
}

/**
 * Sends requests to the org's Interaction Service with the bridge's own token: each attempt has a
 * timeout; failures worth retrying are retried with exponential backoff and jitter (same RequestId)
 * until the deadline; an org that keeps failing trips a circuit breaker that fails fast and probes it
 * back after a pause. A 401 refreshes the token once, transparently. A 429 or 503 carrying Retry-After is
 * the org's own answer and goes back to the partner unchanged, unretried. When all that fails the partner
 * gets 503 with Retry-After, never a hang or a 500.
 */
export class ResilientUpstream {
  private readonly breaker;
  private readonly policy;
  private readonly origin: UpstreamOrigin;

  constructor(
    private readonly settings: SalesforceSettings,
    private readonly tokens: UpstreamTokenClient,
    private readonly log: Logger,
    private readonly observer: UpstreamObserver = { error() {}, circuit() {} },
  ) {
    this.origin = upstreamOrigin(settings.scrtInstanceUrl);
    const retryable = handleWhen((err) => err instanceof RetryableUpstreamError);
    this.breaker = circuitBreaker(retryable, {
      halfOpenAfter: settings.breakerHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(settings.breakerFailures),
    });
    this.breaker.onBreak(() => {
      this.observer.circuit('open');
      this.log.warn({ org: settings.scrtInstanceUrl }, 'circuit opened: the org keeps failing; failing fast');
    });
    this.breaker.onHalfOpen(() => {
      this.observer.circuit('half_open');
      this.log.info('circuit half-open: probing the org');
    });
    this.breaker.onReset(() => {
      this.observer.circuit('closed');
      this.log.info('circuit closed: the org answers again');
    });
    const retryPolicy = retry(retryable, {
      maxAttempts: settings.maxAttempts - 1,
      backoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 4_000 }),
    });
    this.policy = wrap(retryPolicy, this.breaker);
  }

  async send(request: UpstreamRequest): Promise<CrmResponse> {
    // The signal tells the retry policy to stop once the deadline has passed; each attempt's own timer
    // stops at the deadline too, so an attempt in flight then ends with it.
    const deadline = abortAfter(this.settings.deadlineMs);
    const deadlineAt = Date.now() + this.settings.deadlineMs;
    try {
      return await this.policy.execute(
        () => this.attempt(request, Math.min(Date.now() + this.settings.attemptTimeoutMs, deadlineAt)),
        deadline.signal,
      );
    } catch (err) {
      throw this.toPartnerError(err, deadline.signal.aborted);
    } finally {
      deadline.clear();
    }
  }

  /** One attempt, over by `endsAt` (epoch ms): the call, and the second one after a token refresh. */
  private async attempt(request: UpstreamRequest, endsAt: number): Promise<CrmResponse> {
    let token: string;
    try {
      token = (await this.tokens.token()).accessToken;
    } catch (err) {
      this.observer.error('token');
      if (err instanceof UpstreamTokenError && err.retryable) throw new RetryableUpstreamError(err.message);
      throw err;
    }
    let response = await this.exchange(request, token, endsAt);
    if (response.status === 401) {
      this.log.info({ requestId: request.requestId }, 'org refused the access token: refreshing it once');
      token = (await this.tokens.refresh(token)).accessToken;
      response = await this.exchange(request, token, endsAt);
    }
    if (response.status >= 500 || response.status === 429) {
      this.observer.error(response.status === 429 ? 'status_429' : 'status_5xx');
      // The org said when to come back: the partner hears it as the org said it (status, body, Retry-After),
      // and the bridge does not call again before then.
      if ((response.status === 429 || response.status === 503) && response.headers?.['Retry-After'] !== undefined) return response;
      throw new RetryableUpstreamError(`the org answered ${response.status}`, response);
    }
    return response;
  }

  private async exchange(request: UpstreamRequest, token: string, endsAt: number): Promise<CrmResponse> {
    const body = request.body?.();
    const headers = {
      Authorization: `Bearer ${token}`,
      OrgId: this.settings.orgId,
      AuthorizationContext: request.authorizationContext,
      RequestId: request.requestId,
      Accept: 'application/json',
      ...request.headers,
      ...(body ? { 'Content-Type': body.contentType } : {}),
    };
    let answer: UpstreamAnswer;
    try {
      answer = await upstreamRequest(this.origin, request.path, request.method, headers, body?.data, Math.max(0, endsAt - Date.now()));
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      this.observer.error('unreachable');
      throw new RetryableUpstreamError(`the org is unreachable or too slow: ${cause}`);
    }
    const { status, text } = answer;
    const answerHeaders = passedBackHeaders(answer.headers);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* keep the text */
    }
    return { status, body: parsed, headers: answerHeaders };
  }

  private toPartnerError(err: unknown, deadlinePassed: boolean): ApiError {
    const retryAfterSeconds = String(Math.ceil(this.settings.breakerHalfOpenAfterMs / 1000));
    const unavailable = (problem: string) => apiError('OrgUnavailable', { problem }).withHeaders({ 'Retry-After': retryAfterSeconds });
    if (err instanceof ApiError) return err;
    if (err instanceof BrokenCircuitError) {
      this.observer.error('circuit_open');
      return unavailable('The Salesforce org is not answering; the bridge is pausing calls to it');
    }
    if (err instanceof UpstreamTokenError) {
      this.log.error({ err: err.message }, 'cannot get an access token from the org');
      return unavailable('The bridge cannot authenticate to the Salesforce org right now');
    }
    if (err instanceof RetryableUpstreamError || deadlinePassed) {
      this.log.warn({ reason: (err as Error).message }, 'the org did not answer in time; giving up on this request');
      return unavailable('The Salesforce org did not answer in time');
    }
    this.log.error({ err }, 'unexpected failure forwarding to the org');
    return unavailable('The request could not be forwarded to the Salesforce org');
  }
}
