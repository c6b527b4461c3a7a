import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../store/database.ts';
import type { Wakeup } from '../util/wakeup.ts';
import type { NormalizedEvent } from '../contract/outbound-event.ts';
import { WebhookSender, WebhookSigner } from './webhook-sender.ts';

const POLL_MS = 250;
/** How many of the oldest pending deliveries a pass looks at. */
const PASS_WINDOW = 500;
/**
 * How many of a line's next deliveries are read at once. Only the one about to be sent is leased (in
 * the transaction recording its predecessor's outcome, by primary key); reading them together spares a
 * join and a sort per event.
 */
const LINE_READ_AHEAD = 64;
/** The longest an attempt's outcome waits for those of other lines to share its commit. */
const GROUP_WAIT_MS = 2;
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
  'e.event_type',
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
  event_type: string;
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

/**
 * webhookBody() from the stored JSON of the event, without parsing and serializing it again: the
 * stored text is JSON.stringify(event), which is what JSON.stringify puts in `data`.
 */
function webhookBodyFromStored(eventType: string, storedEvent: string, receivedAt: number): string {
  return `{"type":${JSON.stringify(eventType)},"timestamp":"${new Date(receivedAt).toISOString()}","data":${storedEvent}}`;
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
  private readonly outcomes: { line: LineCursor; update: Outcome; done: (err?: unknown, next?: Deliverable) => void }[] = [];
  private recording: Promise<void> | undefined;
  /** Set while a group of outcomes waits to be committed: ends the wait once every busy line is in. */
  private groupFilled: (() => void) | undefined;
  private readonly sender: WebhookSender;
  private readonly signer = new WebhookSigner();

  constructor(
    private readonly deps: {
      db: Db;
      logger: Logger;
      wakeup: Wakeup;
      policy: DeliveryPolicy;
      /** Told of every attempt once its outcome is recorded (for the metrics). */
      onAttempt?: (outcome: 'succeeded' | 'retry' | 'dead') => void;
    },
  ) {
    this.sender = new WebhookSender(deps.policy.concurrency);
  }

  start(): void {
    this.loop = this.run();
  }

  /** Read through a call: stop() flips the flag while the loop awaits, which narrowing cannot see. */
  private stopRequested(): boolean {
    return this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.wakeup.notify();
    await this.loop;
    await Promise.allSettled(this.inFlight.values());
    this.sender.close();
  }

  private async run() {
    while (!this.stopRequested()) {
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
      if (!this.stopRequested()) await this.deps.wakeup.wait(Math.max(0, Math.min(POLL_MS, nextDueIn)), seen);
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
      const dueIn = d.next_attempt_at - now;
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
        .catch((err: unknown) => this.deps.logger.error({ err, deliveryId: head.delivery_id }, 'webhook attempt failed to record'))
        .finally(() => {
          this.inFlight.delete(line);
          this.deps.wakeup.notify();
        });
      this.inFlight.set(line, run);
    }
    return nextDueIn;
  }

  /**
   * Leases the chosen deliveries to this process in one statement; those another replica leased, or
   * whose state changed since the pass read them, are left out. A lease outlives an attempt (timeout + grace), so a crashed
   * process's deliveries are taken over once it lapses.
   */
  private async claim<T extends { deliveryId: string }>(chosen: T[]): Promise<T[]> {
    if (chosen.length === 0) return [];
    const now = Date.now();
    const leased = await this.leaseWhereFree(
      this.deps.db,
      chosen.map((c) => c.deliveryId),
      now,
    );
    const ids = new Set(leased.map((r) => r.delivery_id));
    return chosen.filter((c) => ids.has(c.deliveryId));
  }

  /**
   * Leases the deliveries that are still pending and due, and not leased by another live process;
   * returns those leased with their attempts so far (another process may have made some since they were read).
   */
  private async leaseWhereFree(trx: Db, deliveryIds: string[], now: number): Promise<{ delivery_id: string; attempts: number }[]> {
    return (
      trx
        .updateTable('webhook_deliveries')
        .set({ lease_owner: this.owner, lease_until: now + this.deps.policy.timeoutMs + LEASE_GRACE_MS })
        .where('delivery_id', 'in', deliveryIds)
        // Still due and pending: a pass reads a snapshot that an outcome recorded since may have overtaken.
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', this.owner), eb('lease_until', '<', now)]))
        .returning(['delivery_id', 'attempts'])
        .execute()
    );
  }

  /** Sends a line's events one after the other for as long as the next one is due and could be leased. */
  private async runLine(head: Deliverable) {
    const line: LineCursor = { current: head, ahead: [] };
    while (await this.attempt(line));
  }

  /** One attempt of the line's current delivery; true when the line's next one was leased with this outcome. */
  private async attempt(line: LineCursor): Promise<boolean> {
    const row = line.current;
    const deliveryId = row.delivery_id;
    const body = webhookBodyFromStored(row.event_type, row.body, row.received_at);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'byoc-bridge-webhooks/1',
      'webhook-id': row.event_id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': this.signer.sign(row.secret, row.event_id, timestamp, body),
    };
    const sent = await this.sender.post(row.url, headers, body, this.deps.policy.timeoutMs);
    const statusCode = sent.statusCode;
    const error = sent.error ?? (statusCode! < 200 || statusCode! > 299 ? `HTTP ${statusCode}` : null);
    const attempts = row.attempts + 1;
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
    const next = await this.record(line, update);
    this.deps.onAttempt?.(status === 'pending' ? 'retry' : status);
    const log = { deliveryId, eventId: row.event_id, url: row.url, attempts, statusCode, error };
    if (status === 'dead') this.deps.logger.warn(log, 'webhook delivery dead-lettered');
    else if (error) this.deps.logger.info(log, 'webhook attempt failed; will retry');
    else this.deps.logger.debug(log, 'webhook delivered');
    if (!next) return false;
    line.current = next;
    return true;
  }

  /**
   * Attempt outcomes go to the store in groups: those that finish while one transaction commits share
   * the next. A line stays busy until its outcome is committed, so order holds across restarts. When
   * the outcome moves the line on, the same transaction leases the line's next delivery if it is due.
   */
  private record(line: LineCursor, update: Outcome): Promise<Deliverable | undefined> {
    return new Promise((resolve, reject) => {
      this.outcomes.push({
        line,
        update,
        done: (err, next) =>
          err ? reject(err instanceof Error ? err : new Error('recording the outcome failed', { cause: err })) : resolve(next),
      });
      this.groupFilled?.();
      this.kickRecording();
    });
  }

  /**
   * When to commit the waiting outcomes: once every busy line has one waiting (each waits for its
   * commit anyway), else after at most GROUP_WAIT_MS. SQLite commits synchronously: a commit started as
   * soon as one answer is in would record that one alone, and an fsync per event bounds the rate.
   */
  private kickRecording() {
    if (this.recording) return;
    this.recording = new Promise<void>((resolve) => {
      const allIn = () => this.outcomes.length >= this.inFlight.size;
      if (allIn()) return void setImmediate(resolve);
      const timer = setTimeout(resolve, GROUP_WAIT_MS);
      this.groupFilled = () => {
        if (!allIn()) return;
        clearTimeout(timer);
        resolve();
      };
    })
      .then(() => {
        this.groupFilled = undefined;
        return this.flushOutcomes();
      })
      .finally(() => {
        this.recording = undefined;
        if (this.outcomes.length > 0) this.kickRecording();
      });
  }

  private async flushOutcomes() {
    while (this.outcomes.length > 0) {
      const group = this.outcomes.splice(0, this.outcomes.length);
      try {
        const nexts = await this.deps.db.transaction().execute(async (trx) => {
          await this.recordOutcomes(trx, group);
          return this.stopped ? [] : await this.leaseNexts(trx, group);
        });
        group.forEach((o, i) => o.done(undefined, nexts[i]));
      } catch (err) {
        for (const o of group) o.done(err);
      }
    }
  }

  /**
   * Successes (nearly every outcome) are recorded with one statement per status code; retries and dead
   * letters one by one. Each only while the delivery is still pending.
   */
  private async recordOutcomes(trx: Db, group: { line: LineCursor; update: Outcome }[]) {
    const successes = new Map<number, { update: Outcome; ids: string[] }>();
    for (const o of group) {
      const id = o.line.current.delivery_id;
      if (o.update.status === 'succeeded' && o.update.last_status_code !== null) {
        const same = successes.get(o.update.last_status_code);
        if (same) same.ids.push(id);
        else successes.set(o.update.last_status_code, { update: o.update, ids: [id] });
        continue;
      }
      await trx.updateTable('webhook_deliveries').set(o.update).where('delivery_id', '=', id).where('status', '=', 'pending').execute();
    }
    for (const { update, ids } of successes.values()) {
      // The attempt times of one group lie within a commit of each other: the first stands for all.
      const { attempts: _each, ...common } = update;
      await trx
        .updateTable('webhook_deliveries')
        .set({ ...common, attempts: sql<number>`attempts + 1` })
        .where('delivery_id', 'in', ids)
        .where('status', '=', 'pending')
        .execute();
    }
  }

  /**
   * For each outcome that moves its line on, leases the line's next delivery if it is due: the next one
   * read ahead, else the next ones are read from the store. All in one statement; a row that cannot be
   * leased (another process took it, or its state changed) ends its line's run, and a later pass picks
   * the line up again from the store. Returns the leased next delivery per outcome, signed with what
   * the endpoint has now (rows read ahead may predate a secret rotation).
   */
  private async leaseNexts(trx: Db, group: { line: LineCursor; update: Outcome }[]): Promise<(Deliverable | undefined)[]> {
    const now = Date.now();
    const candidates: (Deliverable | undefined)[] = [];
    for (const o of group) {
      const line = o.line;
      if (o.update.status === 'pending') {
        candidates.push(undefined);
        continue;
      }
      if (line.ahead.length === 0) line.ahead = await this.readLine(trx, line.current);
      const next = line.ahead.shift();
      if (!next || next.next_attempt_at > now) line.ahead = [];
      candidates.push(next && next.next_attempt_at <= now ? next : undefined);
    }
    const ids = candidates.flatMap((c) => (c ? [c.delivery_id] : []));
    if (ids.length === 0) return candidates;
    const leased = new Map((await this.leaseWhereFree(trx, ids, now)).map((r) => [r.delivery_id, r.attempts]));
    const endpoints = new Map(
      (await trx.selectFrom('webhook_endpoints').select(['endpoint_id', 'url', 'secret']).execute()).map((e) => [e.endpoint_id, e]),
    );
    return candidates.map((next, i) => {
      const attempts = next && leased.get(next.delivery_id);
      const endpoint = next && endpoints.get(next.endpoint_id);
      if (!next || attempts === undefined || !endpoint) {
        group[i]!.line.ahead = [];
        return undefined;
      }
      return { ...next, attempts, url: endpoint.url, secret: endpoint.secret };
    });
  }

  /** The line's next pending deliveries after `previous`, in event order. */
  private async readLine(trx: Db, previous: Deliverable): Promise<Deliverable[]> {
    const rows = await trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as w', 'w.endpoint_id', 'd.endpoint_id')
      .innerJoin('normalized_events as e', 'e.event_id', 'd.event_id')
      .select(DELIVERABLE_COLUMNS)
      .where('d.endpoint_id', '=', previous.endpoint_id)
      .where('d.ordering_key', '=', previous.ordering_key)
      .where('d.status', '=', 'pending')
      .where('d.delivery_id', '!=', previous.delivery_id)
      .orderBy('d.event_sequence', 'asc')
      .limit(LINE_READ_AHEAD)
      .execute();
    return rows;
  }
}

/** A line being delivered: the delivery under way and the ones read after it, not leased yet. */
interface LineCursor {
  current: Deliverable;
  ahead: Deliverable[];
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
