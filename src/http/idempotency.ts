import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import type { CrmResponse } from '../crm/crm-port.ts';
import type { Db } from '../store/database.ts';

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
  constructor(
    private readonly db: Db,
    private readonly ttlSeconds: number,
  ) {}

  async run(
    key: { operation: string; requestId: string; fingerprint: string },
    log: Logger,
    operation: () => Promise<CrmResponse>,
  ): Promise<IdempotentOutcome> {
    const idempotencyKey = createHash('sha256')
      .update(`${key.operation}\n${key.requestId}\n${key.fingerprint}`)
      .digest('base64url');
    let stored = await this.lookup(idempotencyKey);
    if (stored && stored.expires_at <= Date.now()) {
      await this.db.deleteFrom('idempotency_keys').where('idempotency_key', '=', idempotencyKey).where('expires_at', '<=', Date.now()).execute();
      stored = undefined;
    }
    if (stored?.status_code != null) return replay(stored);
    if (!stored) await this.warnOnReusedRequestId(key, log);
    if (!(await this.reserve(idempotencyKey, key, stored))) {
      // Another request with the same key won the reservation a moment ago.
      const winner = await this.lookup(idempotencyKey);
      if (winner?.status_code != null) return replay(winner);
      throw new ApiError(
        409,
        ErrorCode.ConversationPreconditionFailed,
        'A request with this RequestId and body is still being processed. Retry shortly.',
        { 'Retry-After': '1' },
      );
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
    return this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
  }

  private async release(idempotencyKey: string) {
    await this.db.deleteFrom('idempotency_keys').where('idempotency_key', '=', idempotencyKey).where('status_code', 'is', null).execute();
  }

  private async warnOnReusedRequestId(key: { operation: string; requestId: string }, log: Logger) {
    const earlier = await this.db
      .selectFrom('idempotency_keys')
      .select('idempotency_key')
      .where('request_id', '=', key.requestId)
      .where('operation', '=', key.operation)
      .limit(1)
      .executeTakeFirst();
    if (earlier) {
      log.warn({ operation: key.operation }, 'RequestId reused with a different body: processing it as a new request');
    }
  }
}

function replay(row: { status_code: number | null; response_body: string | null }): IdempotentOutcome {
  return { status: row.status_code!, body: JSON.parse(row.response_body ?? 'null'), replayed: true };
}
