import { randomUUID } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import { HttpClient, HttpClientRequestTimeoutError, type RequestOptions } from 'urllib';
import type { Db } from '../store/database.ts';
import { inTransaction } from '../store/transactions.ts';
import type { Wakeup } from '../util/wakeup.ts';
import { digestAuthorization, pickDigestChallenge } from './digest-auth.ts';
import type { ConversationValues } from './conversation-values.ts';
import { configurationSchema, urlProblem } from './integration-input.ts';
import { buildRequest, IntegrationRequestError, scrubSecrets, type BuiltRequest, type LoggedRequest } from './integration-request.ts';
import type { PlaceholderContext } from './placeholders.ts';
import { valuesFromAnswer } from './response-mapping.ts';

const EXCERPT_CHARS = 2000;
const LEASE_GRACE_MS = 2000;

export interface IntegrationPolicy {
  /** Delay before each retry, in seconds: n delays mean up to 1 + n attempts. */
  retryScheduleSeconds: number[];
  timeoutMs: number;
  concurrency: number;
  allowHttpLoopback: boolean;
  /** The most of a service's answer read; a longer one fails the call and is not read further. */
  maxAnswerBytes: number;
  /**
   * The safety net: calls are found when the transaction adding them commits (the wakeup), when a retry or
   * a lapsed lease falls due, and at least this often (e.g. calls another replica committed).
   */
  pollMs: number;
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

/** An answer longer than the policy's maxAnswerBytes: the call fails, and nothing of it is used. */
class AnswerTooLarge extends Error {}

/**
 * Calls integrations for their pending lifecycle events: each call is leased to this process (a replica
 * sharing the store leaves it alone until the lease lapses), sent, and its outcome recorded in one
 * transaction with the attempt's log line and the values the answer sets. 5xx answers, timeouts and
 * network errors are retried on the schedule; other answers, and requests that cannot be built, fail at once.
 * Each integration gets a conversation's events in order: a call waits while an earlier event's call of the
 * same integration and conversation is pending (retries included); failed calls no longer hold the line.
 * The loop sleeps until `wakeup` (new calls committed, a call settled, a manual retry), the next retry
 * falls due, or the safety poll.
 */
export class IntegrationDispatcher {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly owner = randomUUID();
  private readonly client: HttpClient;

  constructor(private readonly deps: { db: Db; logger: Logger; values: ConversationValues; policy: IntegrationPolicy; wakeup: Wakeup }) {
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
    this.deps.wakeup.notify();
    await this.loop;
    await Promise.allSettled(this.inFlight.values());
  }

  /** Read through a call: stop() flips the flag while the loop awaits, which narrowing cannot see. */
  private stopRequested(): boolean {
    return this.stopped;
  }

  private async run() {
    while (!this.stopRequested()) {
      const seen = this.deps.wakeup.version;
      let nextDueIn = this.deps.policy.pollMs;
      try {
        nextDueIn = await this.dispatchDue();
      } catch (err) {
        this.deps.logger.error({ err }, 'integration dispatch pass failed');
      }
      if (!this.stopRequested()) await this.deps.wakeup.wait(Math.max(1, Math.min(this.deps.policy.pollMs, nextDueIn)), seen);
    }
  }

  /**
   * Starts the due calls that head their line (integration, conversation); returns ms until the next
   * retry falls due or lease lapses (a call leased by a process that died).
   */
  private async dispatchDue(): Promise<number> {
    const free = this.deps.policy.concurrency - this.inFlight.size;
    const now = Date.now();
    const due =
      free <= 0
        ? []
        : await this.deps.db
            .selectFrom('integration_calls as c')
            .select('c.call_id')
            .where('c.status', '=', 'pending')
            .where('c.next_attempt_at', '<=', now)
            .where((eb) => eb.or([eb('c.lease_owner', 'is', null), eb('c.lease_until', '<', now)]))
            .where((eb) =>
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('integration_calls as earlier')
                    .select('earlier.call_id')
                    .whereRef('earlier.integration_id', '=', 'c.integration_id')
                    .whereRef('earlier.conversation_identifier', '=', 'c.conversation_identifier')
                    .where('earlier.status', '=', 'pending')
                    .whereRef('earlier.event_sequence', '<', 'c.event_sequence'),
                ),
              ),
            )
            .orderBy('c.event_sequence', 'asc')
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
        .finally(() => {
          this.inFlight.delete(call_id);
          // Its line may move on, and its slot is free.
          this.deps.wakeup.notify();
        });
      this.inFlight.set(call_id, run);
    }
    const next = await this.deps.db
      .selectFrom('integration_calls')
      .select([
        sql<number | null>`min(case when next_attempt_at > ${now} then next_attempt_at end)`.as('retry'),
        // >=, not >: a lease ending at this very millisecond is not lapsed yet for the query above (which
        // wants lease_until < now), and leaving it out here too would leave it to the slow safety poll.
        sql<number | null>`min(case when lease_until >= ${now} then lease_until end)`.as('lease'),
      ])
      .where('status', '=', 'pending')
      .executeTakeFirst();
    const dueAt = Math.min(next?.retry ?? Infinity, next?.lease ?? Infinity);
    return Number.isFinite(dueAt) ? dueAt - Date.now() : this.deps.policy.pollMs;
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
    const deadline = Date.now() + this.deps.policy.timeoutMs;
    const failed = (error: string, retryable: boolean, statusCode: number | null = null, excerpt: string | null = null): Outcome => ({
      statusCode,
      error,
      retryable,
      durationMs: Math.round(performance.now() - started),
      excerpt,
      answer: undefined,
    });
    try {
      let res = await this.exchange(request, undefined, deadline);
      if (request.credentials?.scheme === 'digest' && res.status === 401) {
        const challenge = pickDigestChallenge(res.headers['www-authenticate']);
        if ('unsupported' in challenge) return failed(`HTTP 401 (${challenge.unsupported})`, false, 401, res.text.slice(0, EXCERPT_CHARS));
        const url = new URL(request.url);
        const authorization = digestAuthorization(challenge, {
          method: request.method,
          uri: `${url.pathname}${url.search}`,
          username: request.credentials.username,
          password: request.credentials.password,
          body: request.body,
        });
        res = await this.exchange(request, authorization, deadline);
      }
      const durationMs = Math.round(performance.now() - started);
      let answer: unknown;
      try {
        answer = res.text ? JSON.parse(res.text) : undefined;
      } catch {
        answer = undefined;
      }
      const ok = res.status >= 200 && res.status <= 299;
      return {
        statusCode: res.status,
        error: ok ? null : `HTTP ${res.status}`,
        retryable: res.status >= 500,
        durationMs,
        excerpt: res.text.slice(0, EXCERPT_CHARS),
        answer,
      };
    } catch (err) {
      if (err instanceof AnswerTooLarge) return failed(err.message, false, Number(err.cause), null);
      const e = err as Error & { cause?: Error };
      const timedOut = err instanceof HttpClientRequestTimeoutError || e.name === 'TimeoutError';
      return failed(timedOut ? `no answer within ${this.deps.policy.timeoutMs} ms` : (e.cause?.message ?? e.message), true);
    }
  }

  /** One request and its answer, read up to the size cap and the call's deadline. */
  private async exchange(request: BuiltRequest, authorization: string | undefined, deadline: number) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw Object.assign(new Error('deadline passed'), { name: 'TimeoutError' });
    const options: RequestOptions = {
      method: request.method,
      headers: authorization ? { ...request.headers, authorization } : request.headers,
      timeout: remaining,
      dataType: 'stream',
      followRedirect: false,
      ...(request.body === undefined ? {} : { content: request.body }),
      ...(request.credentials?.scheme === 'basic' ? { auth: `${request.credentials.username}:${request.credentials.password}` } : {}),
    };
    const res = await this.client.request<Readable>(request.url, options);
    const text = await readCapped(res.res, this.deps.policy.maxAnswerBytes, deadline - Date.now(), res.status);
    return { status: res.status, headers: res.headers, text };
  }
}

/**
 * Reads an answer as UTF-8 text, at most `max` bytes of it: a longer one is dropped unread (the stream is
 * destroyed, so a service cannot make the bridge buffer an unbounded answer), as is one still arriving at the deadline.
 */
function readCapped(body: Readable, max: number, remainingMs: number, status: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(
      () => finish(Object.assign(new Error('answer still arriving at the deadline'), { name: 'TimeoutError' })),
      Math.max(1, remainingMs),
    );
    const finish = (err?: Error) => {
      clearTimeout(timer);
      body.removeAllListeners('data');
      if (err) {
        body.destroy();
        reject(err);
      } else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max)
        finish(new AnswerTooLarge(`answer larger than ${max} bytes (INTEGRATION_MAX_ANSWER_BYTES); not read`, { cause: status }));
      else chunks.push(chunk);
    });
    body.once('end', () => finish());
    body.once('error', (err) => finish(err));
  });
}

/** Delay before retry number `attempt` (1-based): the scheduled delay with ±20 % jitter. */
export function retryDelayMs(policy: Pick<IntegrationPolicy, 'retryScheduleSeconds'>, attempt: number): number {
  const base = (policy.retryScheduleSeconds[attempt - 1] ?? 0) * 1000;
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
