import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { CustomEventFields, PayloadShape } from '../contract/outbound-event.ts';
import type { Db } from '../store/database.ts';
import { OrderedLogReader } from '../store/ordered-log.ts';
import type { OutboundEventTable } from '../store/tables.ts';
import { afterCommit, inTransaction, type Tx } from '../store/transactions.ts';
import { Wakeup } from '../util/wakeup.ts';

export interface Participant {
  appType: string;
  subject: string;
  role: string;
}

export interface OutboundEventInput {
  orgId: string;
  /** Interaction, RoutingRequested, ... — the value of the event type field in the Spring '24 shape. */
  eventType: string;
  channelAddressIdentifier: string;
  conversationIdentifier?: string | null;
  recipient: Participant | null;
  /** The event's content: for Interaction the conversation entry (senderDisplayName, identifier, entryType, entryPayload, sender, ...). */
  content: Record<string, unknown>;
  shape: PayloadShape;
}

/** An event's field values with what the log records beside them. */
export interface PublishedFields {
  orgId: string;
  eventType: string;
  channelAddressIdentifier: string;
  conversationIdentifier: string | null;
  shape: PayloadShape;
  fields: CustomEventFields;
}

export interface OutboundEvent extends PublishedFields {
  replayId: number;
  eventUuid: string;
  createdAt: number;
}

/**
 * Legacy: channel address id and recipient in their own fields, the content alone in the payload field,
 * no event type. Spring '24: the envelope (channelAddressIdentifier, recipient and, for Interaction
 * events, conversationIdentifier)
 * in the payload field with the content nested under `payload` (`spring24`) or beside it
 * (`spring24-flat`), plus the event type field.
 */
export function encodeEventFields(input: OutboundEventInput): CustomEventFields {
  if (input.shape === 'legacy') {
    return {
      channelAddressId: input.channelAddressIdentifier,
      payload: JSON.stringify(input.content),
      recipient: input.recipient ? JSON.stringify(input.recipient) : null,
      eventType: null,
    };
  }
  // An InteractionEvent always names its conversation in the envelope; the other types (RoutingRequested)
  // carry it in their content, as a real org's do.
  const envelope = {
    channelAddressIdentifier: input.channelAddressIdentifier,
    recipient: input.recipient,
    ...(input.eventType === 'Interaction' ? { conversationIdentifier: input.conversationIdentifier ?? null } : {}),
  };
  const payload = input.shape === 'spring24' ? { ...envelope, payload: input.content } : { ...input.content, ...envelope };
  return { channelAddressId: null, payload: JSON.stringify(payload), recipient: null, eventType: input.eventType };
}

/**
 * The write side of the log, for operations: appends in the operation's transaction, so an event commits
 * with the change that caused it, and signals `appended` once that transaction has committed (a reader
 * woken earlier would not see the event yet). It holds no database handle of its own.
 */
export class OutboundEventWriter {
  constructor(private readonly appended: Wakeup) {}

  async append(tx: Tx, input: OutboundEventInput): Promise<OutboundEvent> {
    const [event] = await this.insert(tx, [
      {
        orgId: input.orgId,
        eventType: input.eventType,
        channelAddressIdentifier: input.channelAddressIdentifier,
        conversationIdentifier: input.conversationIdentifier ?? null,
        shape: input.shape,
        fields: encodeEventFields(input),
      },
    ]);
    return event!;
  }

  /** Appends field values as they were published, in one statement, in order. */
  async appendFields(tx: Tx, records: PublishedFields[]): Promise<OutboundEvent[]> {
    return records.length === 0 ? [] : this.insert(tx, records);
  }

  private async insert(tx: Tx, records: PublishedFields[]): Promise<OutboundEvent[]> {
    afterCommit(tx, () => this.appended.notify());
    const createdAt = Date.now();
    const rows = records.map((record) => ({ record, eventUuid: randomUUID() }));
    const inserted = await tx
      .insertInto('outbound_events')
      .values(
        rows.map(({ record, eventUuid }) => ({
          event_uuid: eventUuid,
          org_id: record.orgId,
          event_type: record.eventType,
          channel_address_identifier: record.channelAddressIdentifier,
          conversation_identifier: record.conversationIdentifier,
          shape: record.shape,
          fields: JSON.stringify(record.fields),
          created_at: createdAt,
        })),
      )
      .returning(['sequence', 'event_uuid'])
      .execute();
    const sequenceOf = new Map(inserted.map((r) => [r.event_uuid, r.sequence]));
    return rows.map(({ record, eventUuid }) => ({ replayId: sequenceOf.get(eventUuid)!, eventUuid, createdAt, ...record }));
  }
}

/**
 * The local org's durable, ordered log of outbound events; the sequence is the Pub/Sub replay id. One per
 * process: its `appended` signal is what wakes the Pub/Sub server's subscriptions.
 */
export class OutboundEventLog {
  readonly appended = new Wakeup();
  readonly writer = new OutboundEventWriter(this.appended);
  private readonly ordered: OrderedLogReader;

  constructor(private readonly db: Db) {
    this.ordered = new OrderedLogReader(db, { table: 'outbound_events', idColumn: 'sequence' });
  }

  /** The Pub/Sub API's Publish: field values appended as they are, in their own transaction. */
  publish(records: PublishedFields[]): Promise<OutboundEvent[]> {
    return inTransaction(this.db, (tx) => this.writer.appendFields(tx, records));
  }

  /** Drops events older than the retention window; replay ids are never reused. */
  async deleteOlderThan(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('outbound_events').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Events after a replay id, oldest first; never one while an earlier id may still commit (so a reader
   * moving its cursor to the last event read skips nothing). May wait for transactions in flight.
   */
  async readAfter(replayId: number, limit: number): Promise<OutboundEvent[]> {
    const read = (after: number) =>
      this.db.selectFrom('outbound_events').selectAll().where('sequence', '>', after).orderBy('sequence', 'asc').limit(limit).execute();
    return (await this.ordered.readAfter(replayId, read, (r) => r.sequence)).map(toEvent);
  }

  /** Where a subscription "from the latest" starts: no event committed afterwards can have an id at or below it. */
  subscriptionStart(): Promise<number> {
    return this.ordered.latestSettled(() => this.latestReplayId());
  }

  /** The highest replay id committed (for status; a subscription starts at subscriptionStart()). */
  async latestReplayId(): Promise<number> {
    const row = await this.db
      .selectFrom('outbound_events')
      .select((eb) => eb.fn.max('sequence').as('latest'))
      .executeTakeFirst();
    return row?.latest ?? 0;
  }

  async listForConversation(conversationIdentifier: string): Promise<OutboundEvent[]> {
    const rows = await this.db
      .selectFrom('outbound_events')
      .selectAll()
      .where('conversation_identifier', '=', conversationIdentifier)
      .orderBy('sequence', 'asc')
      .execute();
    return rows.map(toEvent);
  }
}

function toEvent(r: Selectable<OutboundEventTable>): OutboundEvent {
  return {
    replayId: r.sequence,
    eventUuid: r.event_uuid,
    orgId: r.org_id,
    eventType: r.event_type,
    channelAddressIdentifier: r.channel_address_identifier,
    conversationIdentifier: r.conversation_identifier,
    shape: r.shape as PayloadShape,
    fields: JSON.parse(r.fields) as CustomEventFields,
    createdAt: r.created_at,
  };
}
