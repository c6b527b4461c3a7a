import type { Logger } from 'pino';
import { apiError } from '../contract/interaction-errors.ts';
import type { AnsweredAtOnce, AnswerRecord, CrmResponse, NoTransaction } from '../crm/crm-port.ts';
import type { Db, Dialect } from '../store/database.ts';
import { isUndoneForConflict, retryingConflicts } from '../store/conflicts.ts';
import { isStoreInputError } from '../store/input-errors.ts';
import { preparedQuery } from '../store/prepared-query.ts';
import { inTransaction, type TransactionRunner, type Tx } from '../store/transactions.ts';
import { sha256 } from '../util/sha256.ts';
import { GroupedWrites } from './grouped-writes.ts';

/** Thrown out of a refused operation's transaction to roll it back; the refusal is answered as it is. */
class Refused extends Error {
  constructor(readonly outcome: IdempotentOutcome) {
    super('refused');
  }
}

/** How long a reservation may stay unanswered before it is taken to belong to a process that died. */
const ABANDONED_AFTER_MS = 30_000;

export interface IdempotentOutcome extends CrmResponse {
  replayed: boolean;
}

export interface IdempotencyKey {
  operation: string;
  requestId: string;
  fingerprint: string;
}

/**
 * Runs an operation at most once per (operation, RequestId, request body). A repeat gets the stored first
 * answer and causes no second effect. Only successful answers are stored: a refused or failed request
 * changed nothing, so running it again is safe and lets a client retry after fixing the cause.
 *
 * The same RequestId with another body is processed as a new request: clients in the field send one
 * constant RequestId with every call, and Salesforce accepts them.
 *
 * `Scope` is what the operation runs in, handed to it by this step: a transaction for the local org
 * (TransactionalIdempotency), nothing for bridge mode (ReservingIdempotency).
 */
export interface Idempotency<Scope> {
  run(key: IdempotencyKey, log: Logger, operation: (scope: Scope) => Promise<CrmResponse>, atOnce?: AtOnce): Promise<IdempotentOutcome>;
}

/**
 * The operation's common case done in one statement with its record and answer, where the store makes that
 * pay (see CrmPort.postInteractionAtOnce); undefined when it did nothing. A step may ignore it.
 */
export type AtOnce = (db: Db, record: AnswerRecord) => Promise<AnsweredAtOnce | undefined>;

/**
 * The local org: this step opens the transaction and passes it to the operation, so the record and the
 * operation's own writes commit together or not at all (one commit per request, no window where one is
 * stored without the other). A refusal rolls back whatever the operation wrote before refusing.
 */
export class TransactionalIdempotency implements Idempotency<Tx> {
  constructor(
    private readonly db: Db,
    private readonly ttlSeconds: number,
    /** How the transaction is run: on SQLite the store's GroupCommit, so requests share commits. */
    private readonly runTransaction: TransactionRunner = (work) => inTransaction(db, work),
    /**
     * SQLite runs one transaction (or group member) at a time on its one connection: no other request can
     * write a record between this one's lookup and its own write, so the record is written once, with its
     * answer, instead of reserved first and answered after (one statement less per request). PostgreSQL
     * runs many at once, in this and other replicas: the record is reserved first, in the statement that
     * also looks for one (a duplicate in flight waits there for the first one's commit), and answered after.
     */
    private readonly dialect: Dialect = 'postgres',
  ) {}

  async run(key: IdempotencyKey, log: Logger, operation: (tx: Tx) => Promise<CrmResponse>, atOnce?: AtOnce): Promise<IdempotentOutcome> {
    // On PostgreSQL every statement is a round trip, and a transaction of the common case takes five.
    // SQLite's group commit already shares one commit among concurrent requests: it keeps the usual way.
    if (atOnce && this.dialect === 'postgres') {
      const done = await this.runAtOnce(key, atOnce);
      if (done) {
        if (done.otherBodyWithRequestId) warnReused(log, key);
        return { ...done.response, replayed: false };
      }
    }
    try {
      // A conflict PostgreSQL broke by undoing this transaction (e.g. a duplicate of a request whose shared
      // statement holds the same rows) is not the request's fault: it runs again, from nothing.
      return await retryingConflicts(this.runTransaction, async (tx) => {
        const records = new IdempotencyRecords(
          tx,
          this.ttlSeconds,
          undefined,
          this.dialect === 'sqlite' ? 'answer-only' : 'reserve-at-once',
        );
        const outcome = await records.runOnce(key, log, () => operation(tx));
        if (!outcome.replayed && !succeeded(outcome)) throw new Refused(outcome);
        return outcome;
      });
    } catch (err) {
      if (err instanceof Refused) return err.outcome;
      throw err;
    }
  }

  private async runAtOnce(key: IdempotencyKey, atOnce: AtOnce): Promise<AnsweredAtOnce | undefined> {
    const now = Date.now();
    const record = {
      idempotencyKey: keyOf(key),
      requestId: key.requestId,
      operation: key.operation,
      createdAt: now,
      expiresAt: now + this.ttlSeconds * 1000,
    };
    try {
      return await atOnce(this.db, record);
    } catch (err) {
      // The statement may carry other requests' messages too, and failed whole; each request then takes the
      // usual way alone. A duplicate committed its record meanwhile: the usual way replays its answer. A
      // deadlock: PostgreSQL undid the statement; the usual way stores the message. A value the store
      // refused (class 22): the usual way refuses it to its own request only (400), not to the others.
      const code = (err as { code?: unknown }).code;
      if (code === UNIQUE_VIOLATION || isUndoneForConflict(err) || isStoreInputError(err)) return undefined;
      throw err;
    }
  }
}

/** PostgreSQL's SQLSTATE for a unique index refusing a row. */
const UNIQUE_VIOLATION = '23505';

/**
 * Bridge mode on a shared store (PostgreSQL, where replicas may take the same request at once): the
 * operation is an HTTP call that must not hold a transaction open, so the key is reserved first
 * (committed before the call, which makes the other replicas' duplicates wait) and the answer stored
 * after. Reservations and answers of concurrent requests share commits (GroupedWrites).
 */
export class ReservingIdempotency implements Idempotency<NoTransaction> {
  private readonly records: IdempotencyRecords;

  constructor(db: Db, ttlSeconds: number) {
    const grouped = new GroupedWrites(db);
    this.records = new IdempotencyRecords(db, ttlSeconds, (work) => grouped.run(work));
  }

  run(key: IdempotencyKey, log: Logger, operation: (scope: NoTransaction) => Promise<CrmResponse>): Promise<IdempotentOutcome> {
    return this.records.runOnce(key, log, () => operation(undefined));
  }
}

/**
 * Bridge mode on a store no other process writes (SQLite: one process's file): concurrent duplicates
 * can only meet in this process, so a set of the keys being forwarded right now guards them instead of
 * a committed reservation, and a forwarded request costs one write, its answer, instead of two.
 *
 * Across a crash it keeps what the reservation gave. A request is answered only once its record has
 * committed, so an answer the partner received is replayed, never forwarded again, and nothing accepted
 * is lost. A crash after the org took the request but before its record committed leaves no record: the
 * partner, with no answer, retries, and the retry reaches the org again with the same RequestId. With a
 * reservation the same happened once the reservation was taken to be abandoned (after 30 s of answering
 * RequestInProgress); either way the org had the request.
 */
export class InProcessIdempotency implements Idempotency<NoTransaction> {
  private readonly inFlight = new Set<string>();
  private readonly grouped: GroupedWrites;

  constructor(
    private readonly db: Db,
    private readonly ttlSeconds: number,
  ) {
    this.grouped = new GroupedWrites(db);
  }

  async run(key: IdempotencyKey, log: Logger, operation: (scope: NoTransaction) => Promise<CrmResponse>): Promise<IdempotentOutcome> {
    const idempotencyKey = keyOf(key);
    // Checked and taken in one step, before any await: two requests cannot both get past it.
    if (this.inFlight.has(idempotencyKey)) throw apiError('RequestInProgress').withHeaders({ 'Retry-After': '1' });
    this.inFlight.add(idempotencyKey);
    try {
      const { exact, other } = await recordAndSiblings(this.db, idempotencyKey, key);
      // A record without an answer is a reservation left by a version that reserved before forwarding.
      if (exact?.status_code != null && exact.expires_at > Date.now()) return replay(exact);
      if (!exact && other) log.warn({ operation: key.operation }, 'RequestId reused with a different body: processing it as a new request');
      const response = await operation(undefined);
      if (succeeded(response)) {
        const now = Date.now();
        const body = JSON.stringify(response.body ?? null);
        const expiresAt = now + this.ttlSeconds * 1000;
        await this.grouped.run((tx) =>
          storeAnswered(tx, idempotencyKey, key.requestId, key.operation, response.status, body, now, expiresAt),
        );
      }
      return { ...response, replayed: false };
    } finally {
      this.inFlight.delete(idempotencyKey);
    }
  }
}

/** The sweep: records past their time, whichever mode stored them. */
export async function deleteExpiredIdempotencyRecords(db: Db, now = Date.now()): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const succeeded = (response: CrmResponse) => response.status >= 200 && response.status < 300;

/** Runs one write: on the handle itself, or grouped with others into a shared commit. */
type Writes = <T>(work: (db: Db) => Promise<T>) => Promise<T>;

/**
 * How a new record is written, where the records are written in the operation's transaction
 * (TransactionalIdempotency): only with its answer (`answer-only`, one writer at a time), or reserved by
 * the first statement, which also looks for the record (`reserve-at-once`, PostgreSQL). Otherwise
 * (`lookup-first`) the record is looked up first and then reserved, each write through `write`.
 */
type NewRecords = 'lookup-first' | 'answer-only' | 'reserve-at-once';

/** The idempotency_keys table, read and written through one handle: the operation's transaction or the store. */
class IdempotencyRecords {
  constructor(
    private readonly db: Db,
    private readonly ttlSeconds: number,
    private readonly write: Writes = (work) => work(db),
    private readonly newRecords: NewRecords = 'lookup-first',
  ) {}

  async runOnce(key: IdempotencyKey, log: Logger, operation: () => Promise<CrmResponse>): Promise<IdempotentOutcome> {
    const idempotencyKey = keyOf(key);
    if (this.newRecords === 'reserve-at-once') {
      // The common case, a new request, in one statement; any other goes the way below.
      const now = Date.now();
      const [first] = (await reserveOrLookUp(this.db, idempotencyKey, key.requestId, key.operation, now, now + this.ttlSeconds * 1000))
        .rows;
      if (first?.reserved) {
        if (first.other) warnReused(log, key);
        return this.runReserved(idempotencyKey, operation);
      }
    }
    const { exact, other } = await recordAndSiblings(this.db, idempotencyKey, key);
    let stored = exact;
    if (stored && stored.expires_at <= Date.now()) {
      await this.db
        .deleteFrom('idempotency_keys')
        .where('idempotency_key', '=', idempotencyKey)
        .where('expires_at', '<=', Date.now())
        .execute();
      stored = undefined;
    }
    if (stored?.status_code != null) return replay(stored);
    if (!stored && other) warnReused(log, key);
    if (!stored && this.newRecords === 'answer-only') return this.runAnsweredOnce(idempotencyKey, key, operation);
    if (!(await this.reserve(idempotencyKey, key, stored))) {
      // Another request with the same key won the reservation a moment ago.
      const winner = await this.lookup(idempotencyKey);
      if (winner?.status_code != null) return replay(winner);
      throw apiError('RequestInProgress').withHeaders({ 'Retry-After': '1' });
    }
    return this.runReserved(idempotencyKey, operation);
  }

  /**
   * Runs the operation under this process's reservation of the key, then answers or releases it. In the
   * operation's transaction (`reserve-at-once`) a failure or refusal rolls the reservation back with the
   * rest, so it is not released by a statement of its own (which, after a failed statement, PostgreSQL
   * would refuse in place of the failure's own error).
   */
  private async runReserved(idempotencyKey: string, operation: () => Promise<CrmResponse>): Promise<IdempotentOutcome> {
    const release = this.newRecords === 'reserve-at-once' ? () => Promise.resolve() : () => this.release(idempotencyKey);
    let response: CrmResponse;
    try {
      response = await operation();
    } catch (err) {
      await release();
      throw err;
    }
    if (succeeded(response)) {
      await this.write((db) => storeAnswer(db, response.status, JSON.stringify(response.body ?? null), idempotencyKey));
    } else {
      await release();
    }
    return { ...response, replayed: false };
  }

  /**
   * Runs the operation and records its answer in one insert. Only where nothing else writes meanwhile
   * (`answer-only`), and inside the operation's transaction: a refusal or failure writes no record, and the
   * transaction rolls the operation's writes back.
   */
  private async runAnsweredOnce(
    idempotencyKey: string,
    key: { operation: string; requestId: string },
    operation: () => Promise<CrmResponse>,
  ): Promise<IdempotentOutcome> {
    const response = await operation();
    if (succeeded(response)) {
      const now = Date.now();
      await storeAnswered(
        this.db,
        idempotencyKey,
        key.requestId,
        key.operation,
        response.status,
        JSON.stringify(response.body ?? null),
        now,
        now + this.ttlSeconds * 1000,
      );
    }
    return { ...response, replayed: false };
  }

  /**
   * Claims the key for this process. Exactly one of several concurrent claimants wins: a fresh key by
   * insert-if-absent, an abandoned reservation (its process died) by a compare-and-set on its timestamp.
   */
  private async reserve(
    idempotencyKey: string,
    key: { operation: string; requestId: string },
    existing: { created_at: number } | undefined,
  ): Promise<boolean> {
    const now = Date.now();
    if (existing) {
      if (now - existing.created_at < ABANDONED_AFTER_MS) return false;
      const taken = await this.write((db) =>
        db
          .updateTable('idempotency_keys')
          .set({ created_at: now })
          .where('idempotency_key', '=', idempotencyKey)
          .where('created_at', '=', existing.created_at)
          .where('status_code', 'is', null)
          .executeTakeFirst(),
      );
      return Number(taken.numUpdatedRows) === 1;
    }
    const inserted = await this.write((db) =>
      insertReservation(db, idempotencyKey, key.requestId, key.operation, now, now + this.ttlSeconds * 1000),
    );
    return Number(inserted.numAffectedRows ?? 0n) === 1;
  }

  private async lookup(idempotencyKey: string) {
    return this.db.selectFrom('idempotency_keys').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
  }

  private async release(idempotencyKey: string) {
    await this.write((db) =>
      db.deleteFrom('idempotency_keys').where('idempotency_key', '=', idempotencyKey).where('status_code', 'is', null).execute(),
    );
  }
}

function warnReused(log: Logger, key: { operation: string }) {
  log.warn({ operation: key.operation }, 'RequestId reused with a different body: processing it as a new request');
}

/** The stored key of a request: operation, RequestId and fingerprint, hashed to a fixed length. */
function keyOf(key: IdempotencyKey): string {
  return sha256(`${key.operation}\n${key.requestId}\n${key.fingerprint}`, 'base64url');
}

/**
 * The record for this exact key and, in the same query, whether another body already came with this
 * RequestId (worth a warning): two index lookups, at most two rows however many requests a client sent
 * with one constant RequestId.
 */
async function recordAndSiblings(db: Db, idempotencyKey: string, key: { operation: string; requestId: string }) {
  const { rows } = await recordAndSibling(db, idempotencyKey, key.requestId, key.operation, idempotencyKey);
  const exact = rows.find((r) => r.idempotency_key === idempotencyKey);
  return { exact, other: rows.some((r) => r.idempotency_key !== idempotencyKey) };
}

// The statements every request runs, built once (see preparedQuery).
const recordAndSibling = preparedQuery((db, idempotencyKey: string, requestId: string, operation: string, notKey: string) =>
  db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('idempotency_key', '=', idempotencyKey),
        eb(
          'idempotency_key',
          '=',
          eb
            .selectFrom('idempotency_keys as sibling')
            .select('sibling.idempotency_key')
            .where('sibling.request_id', '=', requestId)
            .where('sibling.operation', '=', operation)
            .where('sibling.idempotency_key', '<>', notKey)
            .limit(1),
        ),
      ]),
    ),
);

/** A reservation: the record of a request in flight, with no answer yet. */
const reservationRow = (idempotencyKey: string, requestId: string, operation: string, createdAt: number, expiresAt: number) => ({
  idempotency_key: idempotencyKey,
  request_id: requestId,
  operation,
  status_code: null,
  response_body: null,
  created_at: createdAt,
  expires_at: expiresAt,
});

const insertReservation = preparedQuery(
  (db, idempotencyKey: string, requestId: string, operation: string, createdAt: number, expiresAt: number) =>
    db
      .insertInto('idempotency_keys')
      .values(reservationRow(idempotencyKey, requestId, operation, createdAt, expiresAt))
      .onConflict((oc) => oc.column('idempotency_key').doNothing()),
);

/**
 * PostgreSQL: reserves the key if no record has it (`reserved`), and says whether another body already
 * came with this RequestId (`other`), in one statement. A record in flight in another transaction makes
 * the insert wait for that transaction's end; a record that is there (answered, expired, abandoned) is
 * left for the lookup that follows.
 */
const reserveOrLookUp = preparedQuery(
  (db, idempotencyKey: string, requestId: string, operation: string, createdAt: number, expiresAt: number) =>
    db
      .with('reserved', (db) =>
        db
          .insertInto('idempotency_keys')
          .values(reservationRow(idempotencyKey, requestId, operation, createdAt, expiresAt))
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .returning('idempotency_key'),
      )
      .selectNoFrom((eb) => [
        eb.exists(eb.selectFrom('reserved').select('idempotency_key')).as('reserved'),
        eb
          .exists(
            eb
              .selectFrom('idempotency_keys as sibling')
              .select('sibling.idempotency_key')
              .where('sibling.request_id', '=', requestId)
              .where('sibling.operation', '=', operation)
              .where('sibling.idempotency_key', '<>', idempotencyKey),
          )
          .as('other'),
      ]),
);

const storeAnswer = preparedQuery((db, statusCode: number, responseBody: string, idempotencyKey: string) =>
  db
    .updateTable('idempotency_keys')
    .set({ status_code: statusCode, response_body: responseBody })
    .where('idempotency_key', '=', idempotencyKey),
);

/**
 * An answered record in one statement: a leftover reservation or an expired record of the key is
 * overwritten. Used where no other writer can hold the key meanwhile (one writer at a time, or a key
 * guarded in memory), so there is nothing newer to overwrite.
 */
const storeAnswered = preparedQuery(
  (
    db,
    idempotencyKey: string,
    requestId: string,
    operation: string,
    statusCode: number,
    responseBody: string,
    createdAt: number,
    expiresAt: number,
  ) =>
    db
      .insertInto('idempotency_keys')
      .values({
        idempotency_key: idempotencyKey,
        request_id: requestId,
        operation,
        status_code: statusCode,
        response_body: responseBody,
        created_at: createdAt,
        expires_at: expiresAt,
      })
      .onConflict((oc) =>
        oc.column('idempotency_key').doUpdateSet((eb) => ({
          status_code: eb.ref('excluded.status_code'),
          response_body: eb.ref('excluded.response_body'),
          created_at: eb.ref('excluded.created_at'),
          expires_at: eb.ref('excluded.expires_at'),
        })),
      ),
);

function replay(row: { status_code: number | null; response_body: string | null }): IdempotentOutcome {
  return { status: row.status_code!, body: JSON.parse(row.response_body ?? 'null'), replayed: true };
}
