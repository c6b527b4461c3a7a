import type { Db } from '../store/database.ts';
import { OrderedLogReader } from '../store/ordered-log.ts';
import type { TransactionRunner, Tx } from '../store/transactions.ts';
import type { NormalizedEvent } from '../contract/outbound-event.ts';
import { orderingKeyOf } from './normalizer.ts';
import { matchesEventTypes } from './event-type-filter.ts';
import { timeOrderedId } from '../util/time-ordered-id.ts';

/**
 * What the subscriber keeps: normalized events (with their webhook deliveries), parked malformed events,
 * and the replay checkpoint. Each write advances the checkpoint in the same transaction, so an event is
 * stored before it counts as received, and one received twice (after a crash) is stored once.
 */
/** Rows per statement, well under the bind-parameter limits of both databases. */
const CHUNK = 500;
const chunks = <T>(items: T[]): T[][] =>
  Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK));

export type ReceivedItem =
  { kind: 'event'; event: NormalizedEvent } | { kind: 'parked'; replayId: number; eventId: string | null; reason: string; raw: unknown };

/** Runs in the transaction that stores events, with the events stored now (e.g. to derive lifecycle events from them). */
export type StoredEventsHook = (tx: Tx, stored: NormalizedEvent[]) => Promise<void>;

export class ReceivedEvents {
  private readonly ordered: OrderedLogReader;

  constructor(
    private readonly db: Db,
    /** How the batches are written: the store's runner (GroupCommit on SQLite, off-loop fsync). */
    private readonly runTransaction: TransactionRunner,
    private readonly onStoredInTransaction?: StoredEventsHook,
  ) {
    this.ordered = new OrderedLogReader(db, { table: 'normalized_events', idColumn: 'sequence' });
  }

  async checkpoint(topicName: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('subscriber_checkpoints')
      .select('replay_id')
      .where('topic_name', '=', topicName)
      .executeTakeFirst();
    return row?.replay_id;
  }

  /**
   * Stores a run of received events in one transaction (one fsync for the lot): each normalized event
   * with one pending delivery per matching endpoint, each malformed one parked with its reason, and
   * the checkpoint moved to the last. Returns the events stored now (not those stored before).
   */
  async storeBatch(topicName: string, items: ReceivedItem[]): Promise<NormalizedEvent[]> {
    if (items.length === 0) return [];
    // The store's runner: the hook's writers may run work after the commit (afterCommit).
    return this.runTransaction(async (trx) => {
      const now = Date.now();
      const endpoints = (await trx.selectFrom('webhook_endpoints').selectAll().execute()).map((ep) => ({
        id: ep.endpoint_id,
        types: ep.event_types ? new Set(JSON.parse(ep.event_types) as string[]) : null,
        channel: ep.channel_address_identifier,
      }));
      const events = items.flatMap((item) => (item.kind === 'event' ? [item.event] : []));
      const parked = items.flatMap((item) => (item.kind === 'parked' ? [item] : []));
      for (const chunk of chunks(parked)) {
        await trx
          .insertInto('parked_events')
          .values(
            chunk.map((p) => ({
              topic_name: topicName,
              replay_id: p.replayId,
              event_id: p.eventId,
              reason: p.reason,
              raw: JSON.stringify(p.raw),
              parked_at: now,
            })),
          )
          .onConflict((oc) => oc.columns(['topic_name', 'replay_id']).doNothing())
          .execute();
      }
      const stored: NormalizedEvent[] = [];
      for (const chunk of chunks(events)) {
        // One statement per chunk; events stored before (received again after a crash) are skipped.
        const inserted = await trx
          .insertInto('normalized_events')
          .values(
            chunk.map((event) => ({
              event_id: event.eventId,
              topic_name: topicName,
              replay_id: event.replayId,
              event_type: event.eventType,
              channel_address_identifier: event.channelAddressIdentifier,
              ordering_key: orderingKeyOf(event),
              body: JSON.stringify(event),
              received_at: now,
            })),
          )
          .onConflict((oc) => oc.column('event_id').doNothing())
          .returning(['sequence', 'event_id'])
          .execute();
        const sequenceOf = new Map(inserted.map((r) => [r.event_id, r.sequence]));
        const deliveries = [];
        for (const event of chunk) {
          const sequence = sequenceOf.get(event.eventId);
          if (sequence === undefined) continue;
          stored.push(event);
          for (const ep of endpoints) {
            if (!matchesEventTypes(ep.types, event) || (ep.channel && ep.channel !== event.channelAddressIdentifier)) continue;
            deliveries.push({
              // Time-ordered: the primary key's index grows at its end rather than at random places.
              delivery_id: `dlv_${timeOrderedId()}`,
              event_sequence: sequence,
              event_id: event.eventId,
              endpoint_id: ep.id,
              ordering_key: orderingKeyOf(event),
              status: 'pending',
              attempts: 0,
              next_attempt_at: now,
              created_at: now,
            });
          }
        }
        for (const part of chunks(deliveries)) await trx.insertInto('webhook_deliveries').values(part).execute();
      }
      if (this.onStoredInTransaction && stored.length > 0) await this.onStoredInTransaction(trx, stored);
      const last = items.at(-1)!;
      const replayId = last.kind === 'parked' ? last.replayId : last.event.replayId;
      await trx
        .insertInto('subscriber_checkpoints')
        .values({ topic_name: topicName, replay_id: replayId, updated_at: now })
        .onConflict((oc) => oc.column('topic_name').doUpdateSet({ replay_id: replayId, updated_at: now }))
        .execute();
      return stored;
    });
  }

  async listParked(limit: number) {
    const rows = await this.db.selectFrom('parked_events').selectAll().orderBy('sequence', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      topicName: r.topic_name,
      replayId: r.replay_id,
      eventId: r.event_id,
      reason: r.reason,
      raw: JSON.parse(r.raw) as unknown,
      parkedAt: new Date(r.parked_at).toISOString(),
    }));
  }

  /** Stored events after a sequence number, oldest first (the SSE stream's source); none while an earlier one may still commit. */
  async readAfter(sequence: number, limit: number): Promise<{ sequence: number; event: NormalizedEvent }[]> {
    const read = (after: number) =>
      this.db
        .selectFrom('normalized_events')
        .select(['sequence', 'body'])
        .where('sequence', '>', after)
        .orderBy('sequence', 'asc')
        .limit(limit)
        .execute();
    const rows = await this.ordered.readAfter(sequence, read, (r) => r.sequence);
    return rows.map((r) => ({ sequence: r.sequence, event: JSON.parse(r.body) as NormalizedEvent }));
  }

  /** Where a stream of new events starts: no event stored afterwards has a sequence at or below it. */
  streamStart(): Promise<number> {
    return this.ordered.latestSettled(() => this.latestSequence());
  }

  async latestSequence(): Promise<number> {
    const row = await this.db
      .selectFrom('normalized_events')
      .select((eb) => eb.fn.max('sequence').as('latest'))
      .executeTakeFirst();
    return row?.latest ?? 0;
  }
}
