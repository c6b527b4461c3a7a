import { randomUUID } from 'node:crypto';
import { sql, type AliasedExpression, type Expression, type ExpressionBuilder, type QueryCreator } from 'kysely';
import { apiError } from '../contract/interaction-errors.ts';
import type { Db } from '../store/database.ts';
import { preparedQuery } from '../store/prepared-query.ts';
import type { Tables } from '../store/tables.ts';
import type { Tx } from '../store/transactions.ts';
import { acknowledgementsByEntry } from './acknowledgements.ts';
import { participantsOf } from './participants.ts';

export interface NewEntry {
  entryId: string;
  entryType: string;
  senderRole: string;
  senderSubject: string;
  clientTimestamp: number | null;
  payload: unknown;
  routingAttributes?: Record<string, string>;
  requestId: string | null;
}

/** The conversation between a channel and an end user, created on first contact. */
export async function findOrCreateConversation(
  tx: Tx,
  key: { orgId: string; channelAddressIdentifier: string; endUserClientIdentifier: string },
): Promise<{ conversationIdentifier: string; created: boolean }> {
  const existing = await findConversation(tx, key);
  if (existing) return { conversationIdentifier: existing, created: false };
  const conversationIdentifier = randomUUID();
  const inserted = await tx
    .insertInto('conversations')
    .values({
      conversation_identifier: conversationIdentifier,
      org_id: key.orgId,
      channel_address_identifier: key.channelAddressIdentifier,
      end_user_client_identifier: key.endUserClientIdentifier,
      created_at: Date.now(),
    })
    .onConflict((oc) => oc.columns(['org_id', 'channel_address_identifier', 'end_user_client_identifier']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { conversationIdentifier, created: true };
  const winner = await findConversation(tx, key);
  if (winner === undefined) throw new Error('a conversation insert conflicted, yet no conversation has its key');
  return { conversationIdentifier: winner, created: false };
}

async function findConversation(
  tx: Tx,
  key: { orgId: string; channelAddressIdentifier: string; endUserClientIdentifier: string },
): Promise<string | undefined> {
  const [row] = (await conversationByKey(tx, key.orgId, key.channelAddressIdentifier, key.endUserClientIdentifier)).rows;
  return row?.conversation_identifier;
}

// The statements every inbound message runs, built once (see preparedQuery).
const conversationByKey = preparedQuery((db, orgId: string, channelAddressIdentifier: string, endUserClientIdentifier: string) =>
  db
    .selectFrom('conversations')
    .select('conversation_identifier')
    .where('org_id', '=', orgId)
    .where('channel_address_identifier', '=', channelAddressIdentifier)
    .where('end_user_client_identifier', '=', endUserClientIdentifier),
);

const insertEntry = preparedQuery(
  (
    db,
    conversationIdentifier: string,
    entryId: string,
    entryType: string,
    senderRole: string,
    senderSubject: string,
    clientTimestamp: number | null,
    payload: string,
    routingAttributes: string | null,
    requestId: string | null,
    createdAt: number,
  ) =>
    db
      .insertInto('conversation_entries')
      .values({
        conversation_identifier: conversationIdentifier,
        entry_id: entryId,
        entry_type: entryType,
        sender_role: senderRole,
        sender_subject: senderSubject,
        client_timestamp: clientTimestamp,
        payload,
        routing_attributes: routingAttributes,
        request_id: requestId,
        created_at: createdAt,
      })
      .onConflict((oc) => oc.columns(['conversation_identifier', 'entry_id']).doNothing())
      .returning('sequence'),
);

/**
 * Stores an entry of the conversation. Entry ids are unique within a conversation (10073): the database's
 * unique index on (conversation, entry id) refuses a second one, including one a concurrent request is
 * storing this moment; the insert then stores nothing (no error that would end the transaction on
 * PostgreSQL) and the refusal is the catalog's.
 */
export async function appendEntry(tx: Tx, conversationIdentifier: string, entry: NewEntry): Promise<number> {
  const [row] = (
    await insertEntry(
      tx,
      conversationIdentifier,
      entry.entryId,
      entry.entryType,
      entry.senderRole,
      entry.senderSubject,
      entry.clientTimestamp,
      JSON.stringify(entry.payload),
      entry.routingAttributes ? JSON.stringify(entry.routingAttributes) : null,
      entry.requestId,
      Date.now(),
    )
  ).rows;
  if (!row) throw apiError('DuplicateMessageId', { entryId: entry.entryId });
  return row.sequence;
}

/**
 * Stores an entry of the conversation between a channel and an end user, created on first contact: what
 * findOrCreateConversation and appendEntry do, appendEntry refusing a duplicate (10073).
 */
export async function appendToConversation(
  tx: Tx,
  key: { orgId: string; channelAddressIdentifier: string; endUserClientIdentifier: string },
  entry: NewEntry,
): Promise<{ conversationIdentifier: string; created: boolean }> {
  const found = await findOrCreateConversation(tx, key);
  await appendEntry(tx, found.conversationIdentifier, entry);
  return found;
}

/**
 * The inbound path's common case in one statement: on an active channel of the caller's org and
 * AuthorizationContext, with a conversation already there and no entry of this id in it, inserts the entry
 * and reads back the conversation's open messaging session (null when it has none) and the channel's
 * longest routing attribute value. Undefined when any of that does not hold (unknown, inactive or another
 * context's channel, no conversation yet, a duplicate id): nothing was stored, and the caller checks each
 * in turn (resolveChannel, appendToConversation) so that a refusal keeps its precise code.
 */
export async function appendToActiveChannelConversation(
  tx: Tx,
  key: { orgId: string; channelAddressIdentifier: string; endUserClientIdentifier: string; authorizationContext: string },
  entry: NewEntry,
): Promise<{ conversationIdentifier: string; openSessionId: string | null; routingAttributeMaxLength: number } | undefined> {
  const [row] = (
    await insertEntryOfActiveChannelConversation(
      tx,
      key.orgId,
      key.channelAddressIdentifier,
      key.endUserClientIdentifier,
      key.authorizationContext,
      entry.entryId,
      entry.entryType,
      entry.senderRole,
      entry.senderSubject,
      entry.clientTimestamp,
      JSON.stringify(entry.payload),
      entry.routingAttributes ? JSON.stringify(entry.routingAttributes) : null,
      entry.requestId,
      Date.now(),
    )
  ).rows;
  if (!row) return undefined;
  return {
    conversationIdentifier: row.conversation_identifier,
    openSessionId: row.open_session_id,
    // Read in the same statement as the join that found the channel, so never null here.
    routingAttributeMaxLength: Number(row.routing_attribute_max_length),
  };
}

/** A value given as such, or as an expression: a column of the rows a statement inserts from. */
export type Given<T> = T | Expression<T>;

/** The end user, channel and caller an entry is stored for. */
export interface CallersConversationKey {
  orgId: Given<string>;
  channelAddressIdentifier: Given<string>;
  endUserClientIdentifier: Given<string>;
  authorizationContext: Given<string>;
}

/**
 * The end user's conversation on an active channel of the caller's org and AuthorizationContext:
 * resolveChannel's checks (10017, 10031, 10001) as a filter, a channel failing any yielding no row. The
 * statements that store an entry only where those hold select from it.
 */
function conversationOnCallersActiveChannel(eb: ExpressionBuilder<Tables, 'conversation_entries'>, key: CallersConversationKey) {
  return eb
    .selectFrom('conversations')
    .innerJoin('channels', (join) =>
      join
        .onRef('channels.channel_address_identifier', '=', 'conversations.channel_address_identifier')
        .onRef('channels.org_id', '=', 'conversations.org_id'),
    )
    .where('conversations.org_id', '=', key.orgId)
    .where('conversations.channel_address_identifier', '=', key.channelAddressIdentifier)
    .where('conversations.end_user_client_identifier', '=', key.endUserClientIdentifier)
    .where('channels.active', '<>', 0)
    .where('channels.authorization_context', '=', key.authorizationContext);
}

/**
 * Inserts an entry into the end user's conversation where conversationOnCallersActiveChannel finds it, and
 * no entry of this id is there yet. With `intoOpenSessionUnlessKey`, only while the conversation has an
 * open session and no idempotency record has that key (appendToOpenSessionAnswered). With `rows`, the
 * key and entry are columns of those rows (a relation joined in, in the given order), one entry each.
 */
export function insertEntryOfCallersConversation(
  db: QueryCreator<Tables>,
  key: CallersConversationKey,
  entry: {
    entryId: Given<string>;
    entryType: Given<string>;
    senderRole: Given<string>;
    senderSubject: Given<string>;
    clientTimestamp: Given<number | null>;
    payload: Given<string>;
    routingAttributes: Given<string | null>;
    requestId: Given<string | null>;
    createdAt: Given<number>;
  },
  intoOpenSessionUnlessKey?: Given<string>,
  rows?: { from: AliasedExpression<unknown, string>; orderedBy: Expression<unknown> },
) {
  return db
    .insertInto('conversation_entries')
    .columns([
      'conversation_identifier',
      'entry_id',
      'entry_type',
      'sender_role',
      'sender_subject',
      'client_timestamp',
      'payload',
      'routing_attributes',
      'request_id',
      'created_at',
    ])
    .expression((eb) => {
      // A value becomes a parameter, an expression is written in place.
      const given = <T>(value: Given<T>) => sql<T>`${value}`;
      let found = conversationOnCallersActiveChannel(eb, key);
      if (intoOpenSessionUnlessKey !== undefined) {
        found = found
          .where((w) =>
            w.exists(
              w
                .selectFrom('messaging_sessions')
                .select('session_id')
                .whereRef('messaging_sessions.open_key', '=', 'conversations.conversation_identifier'),
            ),
          )
          .where((w) =>
            w.not(
              w.exists(w.selectFrom('idempotency_keys').select('idempotency_key').where('idempotency_key', '=', intoOpenSessionUnlessKey)),
            ),
          );
      }
      if (rows) found = (found.crossJoin(rows.from as never) as unknown as typeof found).orderBy(rows.orderedBy);
      return found.select([
        'conversations.conversation_identifier',
        given(entry.entryId).as('entry_id'),
        given(entry.entryType).as('entry_type'),
        given(entry.senderRole).as('sender_role'),
        given(entry.senderSubject).as('sender_subject'),
        given(entry.clientTimestamp).as('client_timestamp'),
        given(entry.payload).as('payload'),
        given(entry.routingAttributes).as('routing_attributes'),
        given(entry.requestId).as('request_id'),
        given(entry.createdAt).as('created_at'),
      ]);
    })
    .onConflict((oc) => oc.columns(['conversation_identifier', 'entry_id']).doNothing());
}

const insertEntryOfActiveChannelConversation = preparedQuery(
  (
    db,
    orgId: string,
    channelAddressIdentifier: string,
    endUserClientIdentifier: string,
    authorizationContext: string,
    entryId: string,
    entryType: string,
    senderRole: string,
    senderSubject: string,
    clientTimestamp: number | null,
    payload: string,
    routingAttributes: string | null,
    requestId: string | null,
    createdAt: number,
  ) =>
    insertEntryOfCallersConversation(
      db,
      { orgId, channelAddressIdentifier, endUserClientIdentifier, authorizationContext },
      { entryId, entryType, senderRole, senderSubject, clientTimestamp, payload, routingAttributes, requestId, createdAt },
    ).returning((eb) => [
      'conversation_identifier',
      eb
        .selectFrom('messaging_sessions')
        .select('session_id')
        .whereRef('messaging_sessions.open_key', '=', 'conversation_entries.conversation_identifier')
        .as('open_session_id'),
      eb
        .selectFrom('channels')
        .select('routing_attribute_max_length')
        .where('channels.channel_address_identifier', '=', channelAddressIdentifier)
        .as('routing_attribute_max_length'),
    ]),
);

/**
 * Conversations and their entries as the management API shows them. Reads only: the writes above take
 * the operation's transaction.
 */
export class Conversations {
  constructor(private readonly db: Db) {}

  async list(orgId: string, options: { limit: number; channelAddressIdentifier?: string; endUserClientIdentifier?: string }) {
    let query = this.db
      .selectFrom('conversations as c')
      .leftJoin('conversation_entries as e', 'e.conversation_identifier', 'c.conversation_identifier')
      .select((eb) => [
        'c.conversation_identifier',
        'c.channel_address_identifier',
        'c.end_user_client_identifier',
        'c.created_at',
        eb.fn.count<number>('e.sequence').as('entry_count'),
        eb.fn.max('e.created_at').as('last_entry_at'),
      ])
      .where('c.org_id', '=', orgId)
      .groupBy(['c.conversation_identifier', 'c.channel_address_identifier', 'c.end_user_client_identifier', 'c.created_at'])
      .orderBy('c.created_at', 'desc')
      .limit(options.limit);
    if (options.channelAddressIdentifier) query = query.where('c.channel_address_identifier', '=', options.channelAddressIdentifier);
    if (options.endUserClientIdentifier) query = query.where('c.end_user_client_identifier', '=', options.endUserClientIdentifier);
    const rows = await query.execute();
    return rows.map((r) => ({
      conversationIdentifier: r.conversation_identifier,
      channelAddressIdentifier: r.channel_address_identifier,
      endUserClientIdentifier: r.end_user_client_identifier,
      createdAt: new Date(r.created_at).toISOString(),
      entryCount: r.entry_count,
      lastEntryAt: r.last_entry_at === null ? null : new Date(r.last_entry_at).toISOString(),
    }));
  }

  async get(conversationIdentifier: string) {
    const conversation = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('conversation_identifier', '=', conversationIdentifier)
      .executeTakeFirst();
    if (!conversation) return undefined;
    const [entries, acknowledgements, participants] = await Promise.all([
      this.db
        .selectFrom('conversation_entries')
        .selectAll()
        .where('conversation_identifier', '=', conversationIdentifier)
        .orderBy('sequence', 'asc')
        .execute(),
      acknowledgementsByEntry(this.db, conversationIdentifier),
      participantsOf(this.db, conversationIdentifier),
    ]);
    return {
      conversationIdentifier: conversation.conversation_identifier,
      orgId: conversation.org_id,
      channelAddressIdentifier: conversation.channel_address_identifier,
      endUserClientIdentifier: conversation.end_user_client_identifier,
      createdAt: new Date(conversation.created_at).toISOString(),
      routingAttributes: conversation.routing_attributes ? (JSON.parse(conversation.routing_attributes) as unknown) : null,
      participants,
      entries: entries.map((e) => ({
        sequence: e.sequence,
        entryId: e.entry_id,
        entryType: e.entry_type,
        sender: { role: e.sender_role, subject: e.sender_subject },
        clientTimestamp: e.client_timestamp,
        receivedAt: new Date(e.created_at).toISOString(),
        requestId: e.request_id,
        routingAttributes: e.routing_attributes ? (JSON.parse(e.routing_attributes) as unknown) : null,
        payload: JSON.parse(e.payload) as unknown,
        acknowledgements: acknowledgements.get(e.entry_id) ?? [],
      })),
    };
  }
}
