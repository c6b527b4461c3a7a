import { sql, type QueryCreator } from 'kysely';
import type { AnswerRecord } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import { preparedQuery } from '../store/prepared-query.ts';
import { StatementBatches } from '../store/statement-batches.ts';
import type { ConversationEntryTable, Tables } from '../store/tables.ts';
import { insertEntryOfCallersConversation, type NewEntry } from './conversations.ts';

/** Stands for the conversation's identifier in an answer built before the statement finds it. */
const CONVERSATION_MARK = '\u0000conversation\u0000';

/** One message for appendToOpenSessionAnswered. */
export interface MessageAtOnce {
  key: { orgId: string; channelAddressIdentifier: string; endUserClientIdentifier: string; authorizationContext: string };
  entry: NewEntry;
  record: AnswerRecord;
  status: number;
  /** The operation's answer; its JSON text is stored with the record, completed by the database. */
  answer: (conversationIdentifier: string) => unknown;
}

/** What appendToOpenSessionAnswered stored of a message: undefined when nothing. */
export type StoredAtOnce = { conversationIdentifier: string; otherBodyWithRequestId: boolean } | undefined;

/**
 * The entries of end users' conversations that have an open session, each with its request's idempotency
 * record and answer, in one PostgreSQL statement that commits alone: one round trip where a transaction
 * takes five (begin, reservation, entry, answer, commit) for each. For each message it stores both or
 * neither: nothing for a message unless its channel is active and of its caller's AuthorizationContext,
 * the conversation exists with an open session, no entry has its id, and no record has its key. The
 * records are inserted without ON CONFLICT: a duplicate committing meanwhile makes the statement fail whole
 * (unique violation), and the callers then take the usual way, which replays it.
 *
 * The messages must not share an idempotency key or an entry id (MessagesAtOnce keeps such apart).
 */
export async function appendToOpenSessionAnswered(db: Db, messages: readonly MessageAtOnce[]): Promise<StoredAtOnce[]> {
  const column = <T>(of: (message: MessageAtOnce) => T) => messages.map(of);
  const answers = messages.map(({ answer }) => {
    const [before, after] = JSON.stringify(answer(CONVERSATION_MARK)).split(JSON.stringify(CONVERSATION_MARK));
    if (before === undefined || after === undefined) throw new Error('the answer must hold the conversation identifier once');
    return { before, after };
  });
  const { rows } = await insertEntriesAndAnsweredRecords(
    db,
    column((m) => m.key.orgId),
    column((m) => m.key.channelAddressIdentifier),
    column((m) => m.key.endUserClientIdentifier),
    column((m) => m.key.authorizationContext),
    column((m) => m.entry.entryId),
    column((m) => m.entry.entryType),
    column((m) => m.entry.senderRole),
    column((m) => m.entry.senderSubject),
    column((m) => m.entry.clientTimestamp),
    column((m) => JSON.stringify(m.entry.payload)),
    column((m) => m.entry.requestId),
    column((m) => m.record.idempotencyKey),
    column((m) => m.record.requestId),
    column((m) => m.record.operation),
    column((m) => m.status),
    answers.map((a) => a.before),
    answers.map((a) => a.after),
    column((m) => m.record.createdAt),
    column((m) => m.record.expiresAt),
    Date.now(),
  );
  const stored: StoredAtOnce[] = messages.map(() => undefined);
  for (const row of rows) {
    stored[Number(row.n) - 1] = { conversationIdentifier: row.conversation_identifier, otherBodyWithRequestId: Boolean(row.other) };
  }
  return stored;
}

/**
 * appendToOpenSessionAnswered for concurrent requests: the messages of requests arriving together share
 * one statement, its round trip and its commit (StatementBatches); two with the same idempotency key or
 * entry id never share one.
 */
export class MessagesAtOnce {
  private readonly batches = new StatementBatches<MessageAtOnce, StoredAtOnce>(appendToOpenSessionAnswered, (m) => [
    `key ${m.record.idempotencyKey}`,
    `entry ${m.entry.entryId}`,
  ]);

  append(db: Db, message: MessageAtOnce): Promise<StoredAtOnce> {
    return this.batches.add(db, message);
  }
}

/** A row of the messages' relation in insertEntriesAndAnsweredRecords: message `n` (from 1) of the batch. */
type MessageRow = Pick<
  ConversationEntryTable,
  'entry_id' | 'entry_type' | 'sender_role' | 'sender_subject' | 'client_timestamp' | 'payload' | 'request_id'
> & {
  n: string;
  org_id: string;
  channel_address_identifier: string;
  end_user_client_identifier: string;
  authorization_context: string;
  idempotency_key: string;
  record_request_id: string;
  operation: string;
  status_code: number;
  answer_before: string;
  answer_after: string;
  record_created_at: number;
  expires_at: number;
};

const message = <C extends keyof MessageRow>(column: C) => sql.ref<MessageRow[C]>(`message.${column}`);

const insertEntriesAndAnsweredRecords = preparedQuery(
  (
    db,
    orgIds: string[],
    channelAddressIdentifiers: string[],
    endUserClientIdentifiers: string[],
    authorizationContexts: string[],
    entryIds: string[],
    entryTypes: string[],
    senderRoles: string[],
    senderSubjects: string[],
    clientTimestamps: (number | null)[],
    payloads: string[],
    requestIds: (string | null)[],
    idempotencyKeys: string[],
    recordRequestIds: string[],
    operations: string[],
    statusCodes: number[],
    answersBefore: string[],
    answersAfter: string[],
    recordCreatedAts: number[],
    expiresAts: number[],
    /** When the entries were stored: one time for the statement. */
    createdAt: number,
  ) =>
    db
      // The messages as a relation: one array per column, unnested together, numbered in order.
      .with(
        'message',
        () => sql<MessageRow>`(select * from unnest(
          ${orgIds}::text[], ${channelAddressIdentifiers}::text[], ${endUserClientIdentifiers}::text[],
          ${authorizationContexts}::text[], ${entryIds}::text[], ${entryTypes}::text[], ${senderRoles}::text[],
          ${senderSubjects}::text[], ${clientTimestamps}::bigint[], ${payloads}::text[], ${requestIds}::text[],
          ${idempotencyKeys}::text[], ${recordRequestIds}::text[], ${operations}::text[],
          ${statusCodes}::integer[], ${answersBefore}::text[], ${answersAfter}::text[], ${recordCreatedAts}::bigint[],
          ${expiresAts}::bigint[]
        ) with ordinality as m(org_id, channel_address_identifier, end_user_client_identifier, authorization_context,
          entry_id, entry_type, sender_role, sender_subject, client_timestamp, payload, request_id,
          idempotency_key, record_request_id, operation, status_code, answer_before, answer_after, record_created_at,
          expires_at, n))`,
      )
      .with('entry', (db) =>
        insertEntryOfCallersConversation(
          db as unknown as QueryCreator<Tables>,
          {
            orgId: message('org_id'),
            channelAddressIdentifier: message('channel_address_identifier'),
            endUserClientIdentifier: message('end_user_client_identifier'),
            authorizationContext: message('authorization_context'),
          },
          {
            entryId: message('entry_id'),
            entryType: message('entry_type'),
            senderRole: message('sender_role'),
            senderSubject: message('sender_subject'),
            clientTimestamp: message('client_timestamp'),
            payload: message('payload'),
            routingAttributes: null,
            requestId: message('request_id'),
            createdAt,
          },
          message('idempotency_key'),
          { from: sql.table('message').as('message'), orderedBy: message('n') },
        ).returning(['conversation_identifier', 'entry_id']),
      )
      .with('answered', (db) =>
        db
          .insertInto('idempotency_keys')
          .columns(['idempotency_key', 'request_id', 'operation', 'status_code', 'response_body', 'created_at', 'expires_at'])
          .expression(
            db
              .selectFrom('entry')
              .innerJoin('message', 'message.entry_id', 'entry.entry_id')
              .select([
                'message.idempotency_key',
                'message.record_request_id',
                'message.operation',
                'message.status_code',
                sql<string>`message.answer_before || to_json(entry.conversation_identifier)::text || message.answer_after`.as(
                  'response_body',
                ),
                'message.record_created_at',
                'message.expires_at',
              ]),
          ),
      )
      .selectFrom('entry')
      .innerJoin('message', 'message.entry_id', 'entry.entry_id')
      .select((eb) => [
        'message.n',
        'entry.conversation_identifier',
        eb
          .exists(
            eb
              .selectFrom('idempotency_keys as sibling')
              .select('sibling.idempotency_key')
              .whereRef('sibling.request_id', '=', 'message.record_request_id')
              .whereRef('sibling.operation', '=', 'message.operation')
              .whereRef('sibling.idempotency_key', '<>', 'message.idempotency_key'),
          )
          .as('other'),
      ]),
);
