import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Db } from '../store/database.ts';
import type { Wakeup } from '../util/wakeup.ts';
import type { NormalizedEvent } from '../contract/outbound-event.ts';

const POLL_MS = 250;
/** How many of the oldest pending deliveries a pass looks at. */
const PASS_WINDOW = 500;
const DELIVERABLE_COLUMNS = [
  'd.delivery_id',
  'd.endpoint_id',
  'd.ordering_key',
  'd.next_attempt_at',
  'd.attempts',
  'd.lease_owner',
  'd.lease_until',
  'w.url',
  'w.secret',
  'e.event_id',
  'e.body',
  'e.received_at',
] as const;

interface Deliverable {
  delivery_id: string;
  endpoint_id: string;
  ordering_key: string;
  next_attempt_at: number;
  attempts: number;
  lease_owner: string | null;
  lease_until: number | null;
  url: string;
  secret: string;
  event_id: string;
  body: string;
  received_at: number;
}
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
  private readonly outcomes: { row: Deliverable; update: Outcome; done: (err?: unknown, next?: Deliverable) => void }[] = [];
  private recording: Promise<void> | undefined;

  constructor(private readonly deps: { db: Db; logger: Logger; wakeup: Wakeup; policy: DeliveryPolicy }) {}

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
      const seen = this.deps.wakeup.version;
      // A busy line takes its next events itself (leaseNext); passes only start idle lines, so there is
      // no point in one while every slot is taken.
      if (this.inFlight.size < this.deps.policy.concurrency) {
        try {
          nextDueIn = await this.dispatchDue();
        } catch (err) {
          this.deps.logger.error({ err }, 'webhook delivery pass failed');
        }
      }
      if (!this.stopped) await this.deps.wakeup.wait(Math.max(0, Math.min(POLL_MS, nextDueIn)), seen);
    }
  }

  /**
   * Starts the due head of each idle (endpoint, conversation) line among the oldest pending deliveries;
   * returns ms until the next one is due. The window is a prefix in event order, so the first delivery
   * of a line in it is that line's head; lines further back come in as the ones before them complete.
   */
  private async dispatchDue(): Promise<number> {
    const window = await this.deps.db
      .selectFrom('webhook_deliveries')
      .select(['delivery_id', 'endpoint_id', 'ordering_key', 'next_attempt_at', 'lease_owner', 'lease_until'])
      .where('status', '=', 'pending')
      .orderBy('event_sequence', 'asc')
      .limit(PASS_WINDOW)
      .execute();
    const now = Date.now();
    let nextDueIn = POLL_MS;
    const seenLines = new Set<string>();
    const chosen: { line: string; deliveryId: string }[] = [];
    for (const d of window) {
      const line = `${d.endpoint_id}\u0000${d.ordering_key}`;
      if (seenLines.has(line)) continue;
      seenLines.add(line);
      if (this.inFlight.has(line)) continue;
      const dueIn = Number(d.next_attempt_at) - now;
      if (dueIn > 0) {
        nextDueIn = Math.min(nextDueIn, dueIn);
        continue;
      }
      if (d.lease_owner && d.lease_owner !== this.owner && Number(d.lease_until) > now) continue;
      if (this.inFlight.size + chosen.length >= this.deps.policy.concurrency) break;
      chosen.push({ line, deliveryId: d.delivery_id });
    }
    const claimed = await this.claim(chosen);
    if (claimed.length === 0) return nextDueIn;
    const rows = await this.deps.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as w', 'w.endpoint_id', 'd.endpoint_id')
      .innerJoin('normalized_events as e', 'e.event_id', 'd.event_id')
      .select(DELIVERABLE_COLUMNS)
      .where(
        'd.delivery_id',
        'in',
        claimed.map((c) => c.deliveryId),
      )
      .execute();
    for (const head of rows as Deliverable[]) {
      const line = `${head.endpoint_id}\u0000${head.ordering_key}`;
      const run = this.runLine(head)
        .catch((err) => this.deps.logger.error({ err, deliveryId: head.delivery_id }, 'webhook attempt failed to record'))
        .finally(() => {
          this.inFlight.delete(line);
          this.deps.wakeup.notify();
        });
      this.inFlight.set(line, run);
    }
    return nextDueIn;
  }

  /**
   * Leases the chosen deliveries to this process in one transaction; those another replica leased, or
   * whose state changed since the pass read them, are left out. A lease outlives an attempt (timeout + grace), so a crashed
   * process's deliveries are taken over once it lapses.
   */
  private async claim<T extends { deliveryId: string }>(chosen: T[]): Promise<T[]> {
    if (chosen.length === 0) return [];
    const now = Date.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const claimed: T[] = [];
      for (const c of chosen) {
        if (await this.leaseWhereFree(trx, c.deliveryId, now)) claimed.push(c);
      }
      return claimed;
    });
  }

  /** Leases one delivery if it is still pending and due, and not leased by another live process. */
  private async leaseWhereFree(trx: Db, deliveryId: string, now: number): Promise<boolean> {
    const result = await trx
      .updateTable('webhook_deliveries')
      .set({ lease_owner: this.owner, lease_until: now + this.deps.policy.timeoutMs + LEASE_GRACE_MS })
      .where('delivery_id', '=', deliveryId)
      // Still due and pending: a pass reads a snapshot that an outcome recorded since may have overtaken.
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', this.owner), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Sends a line's events one after the other for as long as the next one is due and could be leased. */
  private async runLine(head: Deliverable) {
    let next: Deliverable | undefined = head;
    while (next) next = await this.attempt(next);
  }

  /** One attempt; returns the line's next delivery when it was leased together with this outcome. */
  private async attempt(row: Deliverable): Promise<Deliverable | undefined> {
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
      const res = await fetch(row.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.deps.policy.timeoutMs),
        redirect: 'manual',
      });
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
    const next = await this.record(row, update);
    const log = { deliveryId, eventId: row.event_id, url: row.url, attempts, statusCode, error };
    if (status === 'dead') this.deps.logger.warn(log, 'webhook delivery dead-lettered');
    else if (error) this.deps.logger.info(log, 'webhook attempt failed; will retry');
    else this.deps.logger.debug(log, 'webhook delivered');
    return next;
  }

  /**
   * Attempt outcomes go to the store in groups: those that finish while one transaction commits share
   * the next. A line stays busy until its outcome is committed, so order holds across restarts. When
   * the outcome moves the line on, the same transaction leases the line's next delivery if it is due.
   */
  private record(row: Deliverable, update: Outcome): Promise<Deliverable | undefined> {
    return new Promise((resolve, reject) => {
      this.outcomes.push({ row, update, done: (err, next) => (err ? reject(err) : resolve(next)) });
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
        const nexts = await this.deps.db.transaction().execute(async (trx) => {
          const leased: (Deliverable | undefined)[] = [];
          for (const o of group) {
            await trx
              .updateTable('webhook_deliveries')
              .set(o.update)
              .where('delivery_id', '=', o.row.delivery_id)
              .where('status', '=', 'pending')
              .execute();
            leased.push(o.update.status === 'pending' || this.stopped ? undefined : await this.leaseNext(trx, o.row));
          }
          return leased;
        });
        group.forEach((o, i) => o.done(undefined, nexts[i]));
      } catch (err) {
        for (const o of group) o.done(err);
      }
    }
  }

  private async leaseNext(trx: Db, previous: Deliverable): Promise<Deliverable | undefined> {
    const now = Date.now();
    const next = await trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as w', 'w.endpoint_id', 'd.endpoint_id')
      .innerJoin('normalized_events as e', 'e.event_id', 'd.event_id')
      .select(DELIVERABLE_COLUMNS)
      .where('d.endpoint_id', '=', previous.endpoint_id)
      .where('d.ordering_key', '=', previous.ordering_key)
      .where('d.status', '=', 'pending')
      .orderBy('d.event_sequence', 'asc')
      .limit(1)
      .executeTakeFirst();
    if (!next || Number(next.next_attempt_at) > now) return undefined;
    const leased = await this.leaseWhereFree(trx, next.delivery_id, now);
    return leased ? next : undefined;
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
