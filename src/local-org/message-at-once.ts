import { sql } from 'kysely';
import type { AnswerRecord } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';
import { preparedQuery } from '../store/prepared-query.ts';
import { insertEntryOfCallersConversation, type NewEntry } from './conversations.ts';

/** Stands for the conversation's identifier in an answer built before the statement finds it. */
const CONVERSATION_MARK = '\u0000conversation\u0000';

/**
 * The entry of an end user's conversation that has an open session, with the request's idempotency record
 * and its answer, in one PostgreSQL statement that commits alone: one round trip where a transaction takes
 * five (begin, reservation, entry, answer, commit). It stores both or neither: no row comes back, and
 * nothing was written, unless the channel is active and of the caller's AuthorizationContext, the
 * conversation exists with an open session, no entry has this id, and no record has this key. The record
 * is inserted without ON CONFLICT: a duplicate committing meanwhile makes the statement fail whole (unique
 * violation), and the caller then takes the usual way, which replays it.
 *
 * `answer(conversationIdentifier)` is the operation's answer; its JSON text is stored with the record,
 * completed by the database with the identifier it found.
 */
export async function appendToOpenSessionAnswered(
  db: Db,
  key: { orgId: string; channelAddressIdentifier: string; endUserClientIdentifier: string; authorizationContext: string },
  entry: NewEntry,
  record: AnswerRecord,
  status: number,
  answer: (conversationIdentifier: string) => unknown,
): Promise<{ conversationIdentifier: string; otherBodyWithRequestId: boolean } | undefined> {
  const [before, after] = JSON.stringify(answer(CONVERSATION_MARK)).split(JSON.stringify(CONVERSATION_MARK));
  if (before === undefined || after === undefined) throw new Error('the answer must hold the conversation identifier once');
  const [row] = (
    await insertEntryAndAnsweredRecord(
      db,
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
      entry.requestId,
      Date.now(),
      record.idempotencyKey,
      record.requestId,
      record.operation,
      status,
      before,
      after,
      record.createdAt,
      record.expiresAt,
    )
  ).rows;
  return row && { conversationIdentifier: row.conversation_identifier, otherBodyWithRequestId: Boolean(row.other) };
}

const insertEntryAndAnsweredRecord = preparedQuery(
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
    requestId: string | null,
    createdAt: number,
    idempotencyKey: string,
    recordRequestId: string,
    operation: string,
    statusCode: number,
    answerBefore: string,
    answerAfter: string,
    recordCreatedAt: number,
    expiresAt: number,
  ) =>
    db
      .with('entry', (db) =>
        insertEntryOfCallersConversation(
          db,
          { orgId, channelAddressIdentifier, endUserClientIdentifier, authorizationContext },
          { entryId, entryType, senderRole, senderSubject, clientTimestamp, payload, routingAttributes: null, requestId, createdAt },
          idempotencyKey,
        ).returning('conversation_identifier'),
      )
      .with('answered', (db) =>
        db
          .insertInto('idempotency_keys')
          .columns(['idempotency_key', 'request_id', 'operation', 'status_code', 'response_body', 'created_at', 'expires_at'])
          .expression(
            db
              .selectFrom('entry')
              .select((eb) => [
                eb.val(idempotencyKey).as('idempotency_key'),
                eb.val(recordRequestId).as('request_id'),
                eb.val(operation).as('operation'),
                eb.val(statusCode).as('status_code'),
                sql<string>`${answerBefore} || to_json(entry.conversation_identifier)::text || ${answerAfter}`.as('response_body'),
                eb.val(recordCreatedAt).as('created_at'),
                eb.val(expiresAt).as('expires_at'),
              ]),
          ),
      )
      .selectFrom('entry')
      .select((eb) => [
        'entry.conversation_identifier',
        eb
          .exists(
            eb
              .selectFrom('idempotency_keys as sibling')
              .select('sibling.idempotency_key')
              .where('sibling.request_id', '=', recordRequestId)
              .where('sibling.operation', '=', operation)
              .where('sibling.idempotency_key', '<>', idempotencyKey),
          )
          .as('other'),
      ]),
);
