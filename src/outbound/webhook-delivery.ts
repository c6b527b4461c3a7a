import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Db } from '../store/database.ts';
import type { Wakeup } from '../util/wakeup.ts';
import type { NormalizedEvent } from './normalizer.ts';

const POLL_MS = 250;
const ERROR_TEXT_LIMIT = 500;
/** How long a lease outlasts the attempt's timeout: recording its outcome must fit in it. */
const LEASE_GRACE_MS = 2000;

export interface DeliveryPolicy {
  /** Delay before each retry, in seconds: n delays mean 1 + n attempts, then the dead-letter state. */
  retryScheduleSeconds: number[];
  timeoutMs: number;
  concurrency: number;
}

/** The body POSTed to endpoints, identical on every attempt (the signature covers it). */
export function webhookBody(event: NormalizedEvent, receivedAt: number): string {
  return JSON.stringify({ type: event.eventType, timestamp: new Date(receivedAt).toISOString(), data: event });
}

/** Delay before retry number `attempt` (1-based): the scheduled delay with ±20 % jitter. */
export function retryDelayMs(policy: DeliveryPolicy, attempt: number): number {
  const base = policy.retryScheduleSeconds[attempt - 1]! * 1000;
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Sends pending deliveries: per endpoint and conversation strictly in event order (a later event waits
 * while an earlier one is pending; a dead-lettered one no longer holds the line), different conversations
 * in parallel. Every attempt is signed per Standard Webhooks with the event id as `webhook-id`, so a
 * receiver recognises a retry. State lives in the store: a restart resumes where it stopped.
 */
export class WebhookDelivery {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** This process, as the owner of the deliveries it leases. */
  private readonly owner = randomUUID();
  private readonly outcomes: { deliveryId: string; update: Outcome; done: (err?: unknown) => void }[] = [];
  private recording: Promise<void> | undefined;

  constructor(
    private readonly deps: { db: Db; logger: Logger; wakeup: Wakeup; policy: DeliveryPolicy },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.wakeup.notify();
    await this.loop;
    await Promise.allSettled(this.inFlight.values());
  }

  private async run() {
    while (!this.stopped) {
      let nextDueIn = POLL_MS;
      try {
        nextDueIn = await this.dispatchDue();
      } catch (err) {
        this.deps.logger.error({ err }, 'webhook delivery pass failed');
      }
      if (!this.stopped) await this.deps.wakeup.wait(Math.max(0, Math.min(POLL_MS, nextDueIn)));
    }
  }

  /** Starts the due head of each idle (endpoint, conversation) line; returns ms until the next one is due. */
  private async dispatchDue(): Promise<number> {
    const heads = await this.deps.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin(
        (eb) =>
          eb
            .selectFrom('webhook_deliveries')
            .select(['endpoint_id', 'ordering_key', (f) => f.fn.min('event_sequence').as('head')])
            .where('status', '=', 'pending')
            .groupBy(['endpoint_id', 'ordering_key'])
            .as('h'),
        (join) => join.onRef('h.endpoint_id', '=', 'd.endpoint_id').onRef('h.ordering_key', '=', 'd.ordering_key').onRef('h.head', '=', 'd.event_sequence'),
      )
      .innerJoin('webhook_endpoints as w', 'w.endpoint_id', 'd.endpoint_id')
      .innerJoin('normalized_events as e', 'e.event_id', 'd.event_id')
      .select(['d.delivery_id', 'd.endpoint_id', 'd.ordering_key', 'd.next_attempt_at', 'd.attempts', 'd.lease_owner', 'd.lease_until', 'w.url', 'w.secret', 'e.event_id', 'e.body', 'e.received_at'])
      .where('d.status', '=', 'pending')
      .orderBy('d.next_attempt_at', 'asc')
      .execute();
    const now = Date.now();
    let nextDueIn = POLL_MS;
    const chosen: { line: string; head: (typeof heads)[number] }[] = [];
    for (const head of heads) {
      const line = `${head.endpoint_id}\u0000${head.ordering_key}`;
      if (this.inFlight.has(line)) continue;
      const dueIn = Number(head.next_attempt_at) - now;
      if (dueIn > 0) {
        nextDueIn = Math.min(nextDueIn, dueIn);
        continue;
      }
      if (head.lease_owner && head.lease_owner !== this.owner && Number(head.lease_until) > now) continue;
      if (this.inFlight.size + chosen.length >= this.deps.policy.concurrency) break;
      chosen.push({ line, head });
    }
    for (const { line, head } of await this.claim(chosen)) {
      const attempt = this.attempt(head)
        .catch((err) => this.deps.logger.error({ err, deliveryId: head.delivery_id }, 'webhook attempt failed to record'))
        .finally(() => {
          this.inFlight.delete(line);
          this.deps.wakeup.notify();
        });
      this.inFlight.set(line, attempt);
    }
    return nextDueIn;
  }

  /**
   * Leases the chosen deliveries to this process in one transaction; those another replica leased, or
   * whose state changed since the pass read them, are left out. A lease outlives an attempt (timeout + grace), so a crashed
   * process's deliveries are taken over once it lapses.
   */
  private async claim<T extends { head: { delivery_id: string } }>(chosen: T[]): Promise<T[]> {
    if (chosen.length === 0) return [];
    const now = Date.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const claimed: T[] = [];
      for (const c of chosen) {
        const result = await trx
          .updateTable('webhook_deliveries')
          .set({ lease_owner: this.owner, lease_until: now + this.deps.policy.timeoutMs + LEASE_GRACE_MS })
          .where('delivery_id', '=', c.head.delivery_id)
          // Still due and pending: the pass read a snapshot that an outcome recorded since may have overtaken.
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', this.owner), eb('lease_until', '<', now)]))
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1) claimed.push(c);
      }
      return claimed;
    });
  }

  private async attempt(row: { delivery_id: string; attempts: number; url: string; secret: string; event_id: string; body: string; received_at: number }) {
    const deliveryId = row.delivery_id;
    const body = webhookBody(JSON.parse(row.body) as NormalizedEvent, Number(row.received_at));
    const sentAt = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'byoc-bridge-webhooks/1',
      'webhook-id': row.event_id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(row.secret).sign(row.event_id, sentAt, body),
    };
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(row.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.deps.policy.timeoutMs), redirect: 'manual' });
      statusCode = res.status;
      await res.body?.cancel().catch(() => {});
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: Error };
      error = e.name === 'TimeoutError' ? `no answer within ${this.deps.policy.timeoutMs} ms` : (e.cause?.message ?? e.message);
    }
    const attempts = Number(row.attempts) + 1;
    const now = Date.now();
    const common = { attempts, last_attempt_at: now, last_status_code: statusCode, last_error: error?.slice(0, ERROR_TEXT_LIMIT) ?? null };
    const status = !error ? 'succeeded' : attempts > this.deps.policy.retryScheduleSeconds.length ? 'dead' : 'pending';
    const update = {
      ...common,
      status,
      lease_owner: null,
      lease_until: null,
      delivered_at: status === 'succeeded' ? now : null,
      next_attempt_at: status === 'pending' ? now + retryDelayMs(this.deps.policy, attempts) : now,
    };
    await this.record(deliveryId, update);
    const log = { deliveryId, eventId: row.event_id, url: row.url, attempts, statusCode, error };
    if (status === 'dead') this.deps.logger.warn(log, 'webhook delivery dead-lettered');
    else if (error) this.deps.logger.info(log, 'webhook attempt failed; will retry');
    else this.deps.logger.debug(log, 'webhook delivered');
  }

  /**
   * Attempt outcomes go to the store in groups: those that finish while one transaction commits share
   * the next. A line stays busy until its outcome is committed, so order holds across restarts.
   */
  private record(deliveryId: string, update: Outcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.outcomes.push({ deliveryId, update, done: (err) => (err ? reject(err) : resolve()) });
      this.kickRecording();
    });
  }

  private kickRecording() {
    if (this.recording) return;
    this.recording = this.flushOutcomes().finally(() => {
      this.recording = undefined;
      if (this.outcomes.length > 0) this.kickRecording();
    });
  }

  private async flushOutcomes() {
    while (this.outcomes.length > 0) {
      const group = this.outcomes.splice(0, this.outcomes.length);
      try {
        await this.deps.db.transaction().execute(async (trx) => {
          for (const o of group) {
            await trx.updateTable('webhook_deliveries').set(o.update).where('delivery_id', '=', o.deliveryId).where('status', '=', 'pending').execute();
          }
        });
        for (const o of group) o.done();
      } catch (err) {
        for (const o of group) o.done(err);
      }
    }
  }
}

interface Outcome {
  attempts: number;
  lease_owner: null;
  lease_until: null;
  status: string;
  last_attempt_at: number;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
  next_attempt_at: number;
}
