import { randomUUID } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import { HttpClient, HttpClientRequestTimeoutError, type RequestOptions } from 'urllib';
import type { Db } from '../store/database.ts';
import { inTransaction } from '../store/transactions.ts';
import type { ConversationValues } from './conversation-values.ts';
import { configurationSchema, urlProblem } from './integration-input.ts';
import { buildRequest, IntegrationRequestError, scrubSecrets, type BuiltRequest, type LoggedRequest } from './integration-request.ts';
import type { PlaceholderContext } from './placeholders.ts';
import { valuesFromAnswer } from './response-mapping.ts';

const POLL_MS = 250;
const EXCERPT_CHARS = 2000;
const LEASE_GRACE_MS = 2000;

export interface IntegrationPolicy {
  /** Delay before each retry, in seconds: n delays mean up to 1 + n attempts. */
  retryScheduleSeconds: number[];
  timeoutMs: number;
  concurrency: number;
  allowHttpLoopback: boolean;
  /** Extra certificate authorities (PEM) trusted besides the usual ones. */
  extraCaPem?: string;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  retryable: boolean;
  durationMs: number;
  excerpt: string | null;
  answer: unknown;
}

/**
 * Calls integrations for their pending lifecycle events: each call is leased to this process (a replica
 * sharing the store leaves it alone until the lease lapses), sent, and its outcome recorded in one
 * transaction with the attempt's log line and the values the answer sets. 5xx answers, timeouts and
 * network errors are retried on the schedule; other answers, and requests that cannot be built, fail at once.
 */
export class IntegrationDispatcher {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly owner = randomUUID();
  private readonly client: HttpClient;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: { db: Db; logger: Logger; values: ConversationValues; policy: IntegrationPolicy }) {
    const ca = deps.policy.extraCaPem ? [...rootCertificates, deps.policy.extraCaPem] : undefined;
    // `connect` goes to undici's Agent as TLS options; urllib's type names only some of them.
    const connect: { rejectUnauthorized: boolean; ca?: string[] } = { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
    this.client = new HttpClient({ connect });
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled(this.inFlight.values());
  }

  private async run() {
    while (!this.stopped) {
      try {
        await this.dispatchDue();
      } catch (err) {
        this.deps.logger.error({ err }, 'integration dispatch pass failed');
      }
      await this.pause();
    }
  }

  /** Until the next pass is due, or stop() is called. */
  private pause(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async dispatchDue() {
    const free = this.deps.policy.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const now = Date.now();
    const due = await this.deps.db
      .selectFrom('integration_calls')
      .select('call_id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('event_sequence', 'asc')
      .limit(free + this.inFlight.size)
      .execute();
    for (const { call_id } of due) {
      if (this.inFlight.has(call_id) || this.inFlight.size >= this.deps.policy.concurrency) continue;
      const leased = await this.deps.db
        .updateTable('integration_calls')
        .set({ lease_owner: this.owner, lease_until: now + this.deps.policy.timeoutMs + LEASE_GRACE_MS })
        .where('call_id', '=', call_id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', this.owner), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(leased.numUpdatedRows) !== 1) continue;
      const run = this.attempt(call_id)
        .catch((err: unknown) => this.deps.logger.error({ err, callId: call_id }, 'integration call failed to record'))
        .finally(() => this.inFlight.delete(call_id));
      this.inFlight.set(call_id, run);
    }
  }

  private async attempt(callId: string) {
    const { db } = this.deps;
    const row = await db
      .selectFrom('integration_calls as c')
      .innerJoin('integrations as i', 'i.integration_id', 'c.integration_id')
      .innerJoin('lifecycle_events as e', 'e.sequence', 'c.event_sequence')
      .select([
        'c.call_id',
        'c.attempts',
        'i.integration_id',
        'i.url',
        'i.configuration',
        'e.event',
        'e.conversation_identifier',
        'e.direction',
        'e.channel_address_identifier',
        'e.end_user_client_identifier',
        'e.queue_id',
        'e.routing_attributes',
      ])
      .where('c.call_id', '=', callId)
      .executeTakeFirst();
    if (!row) return;
    const auths = await db
      .selectFrom('integration_authentications')
      .select(['auth_id', 'secret'])
      .where('integration_id', '=', row.integration_id)
      .execute();
    const secrets = Object.fromEntries(auths.map((a) => [a.auth_id, a.secret]));
    const known = await this.deps.values.read(row.conversation_identifier);
    const ctx: PlaceholderContext = {
      event: row.event,
      conversation: { id: row.conversation_identifier, direction: row.direction },
      contact: { id: row.end_user_client_identifier },
      channel: { id: row.channel_address_identifier },
      queue: { id: row.queue_id },
      routingAttributes: JSON.parse(row.routing_attributes) as Record<string, string>,
      saved: known.saved,
      authentications: secrets,
    };
    const configuration = configurationSchema.parse(JSON.parse(row.configuration));
    const started = Date.now();
    let logged: LoggedRequest | { problem: string } = { problem: '' };
    let outcome: Outcome;
    try {
      const built = buildRequest(row.url, configuration.request, ctx);
      logged = built.logged;
      const problem = urlProblem(built.send.url, this.deps.policy.allowHttpLoopback);
      if (problem) throw new IntegrationRequestError(`the resolved URL ${problem}`);
      outcome = await this.send(built.send);
    } catch (err) {
      if (!(err instanceof IntegrationRequestError)) throw err;
      outcome = { statusCode: null, error: err.message, retryable: false, durationMs: 0, excerpt: null, answer: undefined };
      if ('problem' in logged) logged = { problem: err.message };
    }
    const secretValues = Object.values(secrets);
    const error = outcome.error === null ? null : scrubSecrets(outcome.error, secretValues).slice(0, 500);
    const excerpt = outcome.excerpt === null ? null : scrubSecrets(outcome.excerpt, secretValues);
    const attempts = row.attempts + 1;
    const succeeded = outcome.error === null;
    const retry = !succeeded && outcome.retryable && attempts <= this.deps.policy.retryScheduleSeconds.length;
    const status = succeeded ? 'succeeded' : retry ? 'pending' : 'failed';
    const now = Date.now();
    const values = succeeded ? valuesFromAnswer(outcome.answer, configuration.response, row.integration_id) : [];
    await inTransaction(db, async (tx) => {
      await tx
        .insertInto('integration_call_attempts')
        .values({
          call_id: callId,
          request: scrubSecrets(JSON.stringify(logged), secretValues),
          status_code: outcome.statusCode,
          error,
          duration_ms: outcome.durationMs,
          response_excerpt: excerpt,
          started_at: started,
        })
        .execute();
      await tx
        .updateTable('integration_calls')
        .set({
          status,
          attempts,
          next_attempt_at: retry ? now + retryDelayMs(this.deps.policy, attempts) : now,
          lease_owner: null,
          lease_until: null,
          last_status_code: outcome.statusCode,
          last_error: error,
          updated_at: now,
        })
        .where('call_id', '=', callId)
        // Still ours: deleting the integration meanwhile failed the call, and that stands.
        .where('status', '=', 'pending')
        .execute();
      if (values.length > 0) await this.deps.values.write(tx, row.conversation_identifier, values);
    });
    const log = { callId, integrationId: row.integration_id, event: row.event, attempts, statusCode: outcome.statusCode, error };
    if (status === 'failed') this.deps.logger.warn(log, 'integration call failed');
    else if (retry) this.deps.logger.info(log, 'integration call failed; will retry');
    else this.deps.logger.debug(log, 'integration called');
  }

  private async send(request: BuiltRequest): Promise<Outcome> {
    const started = performance.now();
    const options: RequestOptions = {
      method: request.method,
      headers: request.headers,
      timeout: this.deps.policy.timeoutMs,
      dataType: 'text',
      followRedirect: false,
      ...(request.body === undefined ? {} : { content: request.body }),
      ...(request.credentials?.scheme === 'basic' ? { auth: `${request.credentials.username}:${request.credentials.password}` } : {}),
      ...(request.credentials?.scheme === 'digest'
        ? { digestAuth: `${request.credentials.username}:${request.credentials.password}` }
        : {}),
    };
    try {
      const res = await this.client.request<string>(request.url, options);
      const durationMs = Math.round(performance.now() - started);
      const text = typeof res.data === 'string' ? res.data : '';
      let answer: unknown;
      try {
        answer = text ? JSON.parse(text) : undefined;
      } catch {
        answer = undefined;
      }
      const ok = res.status >= 200 && res.status <= 299;
      return {
        statusCode: res.status,
        error: ok ? null : `HTTP ${res.status}`,
        retryable: res.status >= 500,
        durationMs,
        excerpt: text.slice(0, EXCERPT_CHARS),
        answer,
      };
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      const e = err as Error & { cause?: Error };
      const error =
        err instanceof HttpClientRequestTimeoutError
          ? `no answer within ${this.deps.policy.timeoutMs} ms`
          : (e.cause?.message ?? e.message);
      return { statusCode: null, error, retryable: true, durationMs, excerpt: null, answer: undefined };
    }
  }
}

/** Delay before retry number `attempt` (1-based): the scheduled delay with ±20 % jitter. */
export function retryDelayMs(policy: Pick<IntegrationPolicy, 'retryScheduleSeconds'>, attempt: number): number {
  const base = (policy.retryScheduleSeconds[attempt - 1] ?? 0) * 1000;
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
