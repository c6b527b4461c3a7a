import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { apiError } from '../contract/interaction-errors.ts';
import type { CrmResponse } from '../crm/crm-port.ts';
import type { AmbientTransactions } from '../store/ambient-transaction.ts';
import type { Db } from '../store/database.ts';

const ROLL_BACK = Symbol('roll back a refused operation');

/** How long a reservation may stay unanswered before it is taken to belong to a process that died. */
const ABANDONED_AFTER_MS = 30_000;

export interface IdempotentOutcome extends CrmResponse {
  replayed: boolean;
}

/**
 * Runs an operation at most once per (operation, RequestId, request body). A repeat gets the stored first
 * answer and causes no second effect. Only successful answers are stored: a refused or failed request
 * changed nothing, so running it again is safe and lets a client retry after fixing the cause.
 *
 * The same RequestId with another body is processed as a new request: clients in the field send one
 * constant RequestId with every call, and Salesforce accepts them.
 */
export class Idempotency {
  private readonly db: Db;

  /**
   * With `shared` (the local org), the record and the operation's own writes are one transaction: they
   * commit together or not at all. Without (bridge mode, where the operation is an HTTP call that must not
   * hold a transaction open), the key is reserved first and the answer stored after.
   */
  constructor(
    db: Db,
    private readonly ttlSeconds: number,
    private readonly shared?: AmbientTransactions,
  ) {
    this.db = shared?.db ?? db;
  }

  async run(
    key: { operation: string; requestId: string; fingerprint: string },
    log: Logger,
    operation: () => Promise<CrmResponse>,
  ): Promise<IdempotentOutcome> {
    if (!this.shared) return this.runSteps(key, log, operation);
    let refused: IdempotentOutcome | undefined;
    try {
      return await this.shared.run(async () => {
        const outcome = await this.runSteps(key, log, operation);
        if (!outcome.replayed && (outcome.status < 200 || outcome.status >= 300)) {
          refused = outcome;
          throw ROLL_BACK;
        }
        return outcome;
      });
    } catch (err) {
      if (err === ROLL_BACK && refused) return refused;
      throw err;
    }
  }

  private async runSteps(
    key: { operation: string; requestId: string; fingerprint: string },
    log: Logger,
    operation: () => Promise<CrmResponse>,
  ): Promise<IdempotentOutcome> {
    const idempotencyKey = createHash('sha256').update(`${key.operation}\n${key.requestId}\n${key.fingerprint}`).digest('base64url');
    const { exact, other } = await this.lookupWithSiblings(idempotencyKey, key);
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
    if (!stored && other) {
      log.warn({ operation: key.operation }, 'RequestId reused with a different body: processing it as a new request');
    }
    if (!(await this.reserve(idempotencyKey, key, stored))) {
      // Another request with the same key won the reservation a moment ago.
      const winner = await this.lookup(idempotencyKey);
      if (winner?.status_code != null) return replay(winner);
      throw apiError('RequestInProgress').withHeaders({ 'Retry-After': '1' });
    }

    let response: CrmResponse;
    try {
      response = await operation();
    } catch (err) {
      await this.release(idempotencyKey);
      throw err;
    }
    if (response.status >= 200 && response.status < 300) {
      await this.db
        .updateTable('idempotency_keys')
        .set({ status_code: response.status, response_body: JSON.stringify(response.body ?? null) })
        .where('idempotency_key', '=', idempotencyKey)
        .execute();
    } else {
      await this.release(idempotencyKey);
    }
    return { ...response, replayed: false };
  }

  async deleteExpired(now = Date.now()): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_keys').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
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
      const taken = await this.db
        .updateTable('idempotency_keys')
        .set({ created_at: now })
        .where('idempotency_key', '=', idempotencyKey)
        .where('created_at', '=', existing.created_at)
        .where('status_code', 'is', null)
        .executeTakeFirst();
      return Number(taken.numUpdatedRows) === 1;
    }
    const inserted = await this.db
      .insertInto('idempotency_keys')
      .values({
        idempotency_key: idempotencyKey,
        request_id: key.requestId,
        operation: key.operation,
        status_code: null,
        response_body: null,
        created_at: now,
        expires_at: now + this.ttlSeconds * 1000,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  private async lookup(idempotencyKey: string) {
    return this.db.selectFrom('idempotency_keys').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
  }

  private async release(idempotencyKey: string) {
    await this.db.deleteFrom('idempotency_keys').where('idempotency_key', '=', idempotencyKey).where('status_code', 'is', null).execute();
  }

  /**
   * The record for this exact key and, in the same query, whether another body already came with this
   * RequestId (worth a warning). The exact match sorts first; at most two rows are read however many
   * requests a client sent with one constant RequestId.
   */
  private async lookupWithSiblings(idempotencyKey: string, key: { operation: string; requestId: string }) {
    const rows = await this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('request_id', '=', key.requestId)
      .where('operation', '=', key.operation)
      .orderBy((eb) => eb.case().when('idempotency_key', '=', idempotencyKey).then(0).else(1).end())
      .limit(2)
      .execute();
    const exact = rows.find((r) => r.idempotency_key === idempotencyKey);
    return { exact, other: rows.some((r) => r.idempotency_key !== idempotencyKey) };
  }
}

function replay(row: { status_code: number | null; response_body: string | null }): IdempotentOutcome {
  return { status: row.status_code!, body: JSON.parse(row.response_body ?? 'null'), replayed: true };
}
