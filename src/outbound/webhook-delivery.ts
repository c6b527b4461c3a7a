import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../store/database.ts';
import type { TransactionRunner } from '../store/transactions.ts';
import type { Wakeup } from '../util/wakeup.ts';
import type { NormalizedEvent } from '../contract/outbound-event.ts';
import { WebhookSender, WebhookSigner } from './webhook-sender.ts';

const POLL_MS = 250;
/** How many of the oldest pending deliveries a pass looks at. */
const PASS_WINDOW = 500;
/**
 * How many of a line's next deliveries are read at once (at least its pipeline depth). They are leased
 * as the line's window has room, in the transactions recording outcomes; reading them together spares a
 * join and a sort per event.
 */
const LINE_READ_AHEAD = 64;
const DELIVERABLE_COLUMNS = [
  'd.delivery_id',
  'd.event_sequence',
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
  event_sequence: number;
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
  /**
   * How many of a conversation's deliveries may be sent ahead of their outcomes' commit: the most a crash
   * re-sends per conversation. 1 commits each outcome before the next event is sent.
   */
  pipelineDepth: number;
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
 *
 * A line is pipelined: its next event is sent as soon as the previous one is answered 2xx, and outcomes
 * are committed behind, in groups. A line holds at most `pipelineDepth` deliveries leased and not yet
 * recorded, so a crash re-sends at most that many per line (same `webhook-id`; delivery is at least once).
 * A failed attempt stops its line until its outcome is committed: nothing after it is sent before it
 * succeeds.
 */
export class WebhookDelivery {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** This process, as the owner of the deliveries it leases. */
  private readonly owner = randomUUID();
  /** Outcomes not yet committed, in the order they came. */
  private outcomes: { line: Line; row: Deliverable; update: Outcome }[] = [];
  /** Lines that cannot go on before the next commit (their window is full, or an attempt failed). */
  private readonly waiting = new Set<Line>();
  private recording: Promise<void> | undefined;
  private readonly sender: WebhookSender;
  private readonly signer = new WebhookSigner();

  constructor(
    private readonly deps: {
      db: Db;
      /** The store's runner for recording outcomes (on SQLite a GroupCommit: its fsync waits off the event loop). */
      runTransaction: TransactionRunner;
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
    await this.sender.close();
  }

  private async run() {
    while (!this.stopRequested()) {
      let nextDueIn = POLL_MS;
      const seen = this.deps.wakeup.version;
      // A busy line takes its next events itself; passes only start idle lines, so there is no point in
      // one while every slot is taken.
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
      // A literal, not a parameter: so the databases see that the index of pending deliveries applies.
      .where('status', '=', sql.lit('pending'))
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
    if (chosen.length === 0) return nextDueIn;
    const leasedAt = Date.now();
    const leased = new Map(
      (
        await this.leaseWhereFree(
          this.deps.db,
          chosen.map((c) => c.deliveryId),
          leasedAt,
        )
      ).map((r) => [r.delivery_id, r.attempts]),
    );
    if (leased.size === 0) return nextDueIn;
    const rows = await this.deps.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as w', 'w.endpoint_id', 'd.endpoint_id')
      .innerJoin('normalized_events as e', 'e.event_id', 'd.event_id')
      .select(DELIVERABLE_COLUMNS)
      .where('d.delivery_id', 'in', [...leased.keys()])
      .execute();
    for (const head of rows as Deliverable[]) {
      const key = `${head.endpoint_id}\u0000${head.ordering_key}`;
      const line: Line = {
        leased: [head],
        ahead: [],
        last: head,
        unrecorded: 0,
        leasedUntil: this.leaseUntil(leasedAt),
        over: false,
        committed: undefined,
      };
      const run = this.runLine(line)
        .catch((err: unknown) => this.deps.logger.error({ err, deliveryId: head.delivery_id }, 'webhook line failed'))
        .finally(() => {
          this.inFlight.delete(key);
          this.deps.wakeup.notify();
        });
      this.inFlight.set(key, run);
    }
    return nextDueIn;
  }

  private leaseUntil(leasedAt: number): number {
    return leasedAt + this.deps.policy.timeoutMs + LEASE_GRACE_MS;
  }

  /**
   * Leases the deliveries that are still pending and due, and not leased by another live process (or
   * renews this process's leases on them); returns those leased with their attempts so far (another
   * process may have made some since they were read).
   */
  private async leaseWhereFree(trx: Db, deliveryIds: string[], now: number): Promise<{ delivery_id: string; attempts: number }[]> {
    return (
      trx
        .updateTable('webhook_deliveries')
        .set({ lease_owner: this.owner, lease_until: this.leaseUntil(now) })
        .where('delivery_id', 'in', deliveryIds)
        // Still due and pending: a pass reads a snapshot that an outcome recorded since may have overtaken.
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', this.owner), eb('lease_until', '<', now)]))
        .returning(['delivery_id', 'attempts'])
        .execute()
    );
  }

  /**
   * Sends a line's leased deliveries one after the other, each as soon as the one before it was answered
   * 2xx; waits for a commit when the window is used up, the leases would lapse during an attempt, or an
   * attempt failed. Ends once the line has nothing leased and every outcome is committed.
   */
  private async runLine(line: Line) {
    for (;;) {
      const next = line.leased[0];
      const sendable = next && !line.over && !this.stopRequested() && Date.now() + this.deps.policy.timeoutMs <= line.leasedUntil;
      if (!sendable) {
        if (!next && line.unrecorded === 0) return;
        await this.nextCommit(line);
        if (line.leased.length === 0 && line.unrecorded === 0) return;
        continue;
      }
      line.leased.shift();
      line.unrecorded++;
      const update = await this.attempt(next);
      this.outcomes.push({ line, row: next, update });
      // A failure holds the line: nothing after it goes out before its outcome is committed.
      if (update.status !== 'succeeded') line.over = update.status === 'pending' || line.over;
      if (update.status !== 'succeeded') await this.nextCommit(line);
    }
  }

  /** One attempt: POSTs the delivery, signed, and says what to record. */
  private async attempt(row: Deliverable): Promise<Outcome> {
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
    const status = !error ? 'succeeded' : attempts > this.deps.policy.retryScheduleSeconds.length ? 'dead' : 'pending';
    return {
      attempts,
      last_attempt_at: now,
      last_status_code: statusCode,
      last_error: error?.slice(0, ERROR_TEXT_LIMIT) ?? null,
      status,
      lease_owner: null,
      lease_until: null,
      delivered_at: status === 'succeeded' ? now : null,
      next_attempt_at: status === 'pending' ? now + retryDelayMs(this.deps.policy, attempts) : now,
    };
  }

  /** Resolves once a commit has recorded what the line had sent so far and topped up its leases. */
  private nextCommit(line: Line): Promise<void> {
    line.committed ??= new Promise<void>((resolve) => {
      this.waiting.add(line);
      line.wake = resolve;
    });
    this.kickRecording();
    return line.committed;
  }

  /**
   * Outcomes go to the store in groups: a commit starts as soon as a line waits for one (its window is
   * used up, or an attempt failed) and records every outcome in by then, of every line; lines keep
   * sending meanwhile. The first check-phase turn lets answers read in the same turn join.
   */
  private kickRecording() {
    if (this.recording || this.waiting.size === 0) return;
    this.recording = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flushOutcomes())
      .finally(() => {
        this.recording = undefined;
        this.kickRecording();
      });
  }

  private async flushOutcomes() {
    const group = this.outcomes;
    this.outcomes = [];
    const waiting = [...this.waiting];
    this.waiting.clear();
    const lines = new Set([...group.map((o) => o.line), ...waiting]);
    const recording = new Map<Line, number>();
    for (const o of group) recording.set(o.line, (recording.get(o.line) ?? 0) + 1);
    try {
      await this.deps.runTransaction(async (trx) => {
        await this.recordOutcomes(trx, group);
        await this.topUp(trx, [...lines], recording);
      });
    } catch (err) {
      this.deps.logger.error({ err }, 'recording webhook outcomes failed');
      // Nothing of the group is recorded: its lines end, and a later pass sends their events again
      // (once the leases lapse, or at once in this process).
      for (const line of lines) {
        line.over = true;
        line.leased = [];
        line.ahead = [];
      }
    }
    for (const o of group) o.line.unrecorded--;
    for (const line of lines) {
      const wake = line.wake;
      line.committed = undefined;
      line.wake = undefined;
      wake?.();
    }
    for (const o of group) this.afterRecorded(o.row, o.update);
  }

  private afterRecorded(row: Deliverable, update: Outcome) {
    const status = update.status;
    this.deps.onAttempt?.(status === 'pending' ? 'retry' : status === 'dead' ? 'dead' : 'succeeded');
    const log = {
      deliveryId: row.delivery_id,
      eventId: row.event_id,
      url: row.url,
      attempts: update.attempts,
      statusCode: update.last_status_code,
      error: update.last_error,
    };
    if (status === 'dead') this.deps.logger.warn(log, 'webhook delivery dead-lettered');
    else if (status === 'pending') this.deps.logger.info(log, 'webhook attempt failed; will retry');
    else this.deps.logger.debug(log, 'webhook delivered');
  }

  /**
   * Successes (nearly every outcome) are recorded with one statement per status code; retries and dead
   * letters one by one. Each only while the delivery is still pending.
   */
  private async recordOutcomes(trx: Db, group: { row: Deliverable; update: Outcome }[]) {
    const successes = new Map<number, { update: Outcome; ids: string[] }>();
    for (const o of group) {
      const id = o.row.delivery_id;
      if (o.update.status === 'succeeded' && o.update.last_status_code !== null) {
        const same = successes.get(o.update.last_status_code);
        if (same) same.ids.push(id);
        else successes.set(o.update.last_status_code, { update: o.update, ids: [id] });
        continue;
      }
      await trx.updateTable('webhook_deliveries').set(o.update).where('delivery_id', '=', id).where('status', '=', 'pending').execute();
    }
    for (const { update, ids } of successes.values()) {
      // The attempt times of one group lie within a commit window of each other: the first stands for all.
      const { attempts: _each, ...common } = update;
      for (const part of chunks(ids)) {
        await trx
          .updateTable('webhook_deliveries')
          .set({ ...common, attempts: sql<number>`attempts + 1` })
          .where('delivery_id', 'in', part)
          .where('status', '=', 'pending')
          .execute();
      }
    }
  }

  /**
   * Renews the leases each line still holds and leases its next deliveries, up to its depth, in one
   * statement: those read ahead, else the next ones read from the store. A line that is over (an attempt
   * failed and waits for a retry, or the process stops) lets go of what it holds instead. A delivery that
   * cannot be leased (another process took it, or its state changed) cuts its line there; a later pass
   * picks the line up again from the store. New deliveries are signed with what the endpoint has now
   * (rows read ahead may predate a secret rotation).
   */
  private async topUp(trx: Db, lines: Line[], recording: Map<Line, number>) {
    const now = Date.now();
    const depth = this.deps.policy.pipelineDepth;
    const release: string[] = [];
    const wanted: { line: Line; rows: Deliverable[]; renewed: number }[] = [];
    for (const line of lines) {
      if (line.over || this.stopped) {
        release.push(...line.leased.map((d) => d.delivery_id));
        line.leased = [];
        line.ahead = [];
        continue;
      }
      // Outcomes recorded in this transaction leave the window with it.
      const room = depth - (line.unrecorded - (recording.get(line) ?? 0)) - line.leased.length;
      const rows = [...line.leased];
      for (let i = 0; i < room; i++) {
        if (line.ahead.length === 0) {
          // Read on only once events may have been stored since the store had no more for the line.
          if (line.drainedAt === this.deps.wakeup.version) break;
          const version = this.deps.wakeup.version;
          line.ahead = await this.readLine(trx, line.last);
          line.drainedAt = line.ahead.length < this.readAhead() ? version : undefined;
        }
        const next = line.ahead[0];
        if (!next || next.next_attempt_at > now) {
          line.ahead = [];
          break;
        }
        rows.push(line.ahead.shift()!);
        line.last = next;
      }
      if (rows.length > 0) wanted.push({ line, rows, renewed: line.leased.length });
    }
    for (const part of chunks(release)) {
      await trx
        .updateTable('webhook_deliveries')
        .set({ lease_owner: null, lease_until: null })
        .where('delivery_id', 'in', part)
        .where('lease_owner', '=', this.owner)
        .execute();
    }
    const ids = wanted.flatMap((w) => w.rows.map((r) => r.delivery_id));
    if (ids.length === 0) return;
    const leased = new Map<string, number>();
    for (const part of chunks(ids)) for (const r of await this.leaseWhereFree(trx, part, now)) leased.set(r.delivery_id, r.attempts);
    const endpoints = new Map(
      (await trx.selectFrom('webhook_endpoints').select(['endpoint_id', 'url', 'secret']).execute()).map((e) => [e.endpoint_id, e]),
    );
    for (const { line, rows, renewed } of wanted) {
      const kept: Deliverable[] = [];
      for (const [i, row] of rows.entries()) {
        const attempts = leased.get(row.delivery_id);
        const endpoint = endpoints.get(row.endpoint_id);
        if (attempts === undefined || !endpoint) break;
        kept.push(i < renewed ? row : { ...row, attempts, url: endpoint.url, secret: endpoint.secret });
      }
      if (kept.length < rows.length) {
        // What follows a delivery this process could not lease is not this line's to send now.
        line.ahead = [];
        line.over = true;
      }
      line.leased = kept;
      line.leasedUntil = this.leaseUntil(now);
    }
  }

  /** The line's next pending deliveries after `previous`, in event order. */
  private async readLine(trx: Db, previous: Deliverable): Promise<Deliverable[]> {
    return trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as w', 'w.endpoint_id', 'd.endpoint_id')
      .innerJoin('normalized_events as e', 'e.event_id', 'd.event_id')
      .select(DELIVERABLE_COLUMNS)
      .where('d.endpoint_id', '=', previous.endpoint_id)
      .where('d.ordering_key', '=', previous.ordering_key)
      .where('d.status', '=', 'pending')
      .where('d.event_sequence', '>', previous.event_sequence)
      .orderBy('d.event_sequence', 'asc')
      .limit(this.readAhead())
      .execute();
  }

  private readAhead(): number {
    return Math.max(LINE_READ_AHEAD, this.deps.policy.pipelineDepth);
  }
}

/** Rows per statement, well under the bind-parameter limits of both databases. */
const CHUNK = 500;
const chunks = <T>(items: T[]): T[][] =>
  Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK));

/** A line being delivered: what it holds leased (not sent yet), what it read after that, and its window. */
interface Line {
  /** Leased to this process, not sent yet, in event order. */
  leased: Deliverable[];
  /** Read after the leased ones, not leased yet. */
  ahead: Deliverable[];
  /** The last delivery handed to the line: reading on starts after it. */
  last: Deliverable;
  /**
   * The stored-events version (wakeup) at which a read found no more of the line's deliveries than it
   * returned: until events are stored again there is nothing to read.
   */
  drainedAt?: number;
  /** Sent (or being sent) and not yet recorded: with `leased`, at most the pipeline depth. */
  unrecorded: number;
  /** When the line's leases lapse: an attempt starts only if it can end before. */
  leasedUntil: number;
  /** Sends nothing more: an attempt failed and waits for its retry, or a delivery could not be leased. */
  over: boolean;
  /** The commit the line waits for, and what ends the wait. */
  committed: Promise<void> | undefined;
  wake?: () => void;
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
