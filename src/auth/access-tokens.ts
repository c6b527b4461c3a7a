import { randomBytes } from 'node:crypto';
import type { Db } from '../store/database.ts';
import { ExpiringCache } from '../util/expiring-cache.ts';
import { sha256 } from '../util/sha256.ts';

export interface AccessTokenGrant {
  orgId: string;
  userId: string;
  consumerKey: string;
  scope: string;
  issuedAt: number;
  expiresAt: number;
}

const hashToken = (token: string) => sha256(token, 'base64url');

/**
 * How long a process goes on accepting a token another replica revoked (by deleting its connected app);
 * in the process that revoked it, the revocation takes effect at once.
 */
export const TOKEN_CACHE_MS = 5_000;

/**
 * Access tokens of the form `<orgId>!<opaque>`. Only a hash is stored, so a copy of the database does
 * not hand out working tokens; the grant survives a restart because it lives in the store.
 */
export class AccessTokens {
  /** Every API call resolves its token: the grants of recent tokens, by token hash. */
  private readonly recent = new ExpiringCache<string, AccessTokenGrant>(10_000, TOKEN_CACHE_MS);

  constructor(
    private readonly db: Db,
    private readonly ttlSeconds: number,
  ) {}

  async issue(grant: Omit<AccessTokenGrant, 'issuedAt' | 'expiresAt'>): Promise<{ token: string } & AccessTokenGrant> {
    const token = `${grant.orgId}!${randomBytes(48).toString('base64url')}`;
    const issuedAt = Date.now();
    const expiresAt = issuedAt + this.ttlSeconds * 1000;
    await this.db
      .insertInto('access_tokens')
      .values({
        token_hash: hashToken(token),
        org_id: grant.orgId,
        user_id: grant.userId,
        consumer_key: grant.consumerKey,
        scope: grant.scope,
        issued_at: issuedAt,
        expires_at: expiresAt,
      })
      .execute();
    return { token, ...grant, issuedAt, expiresAt };
  }

  /** The grant behind a token, or undefined when the token is unknown or expired. */
  async resolve(token: string): Promise<AccessTokenGrant | undefined> {
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.recent.get(hash, now);
    if (cached) return cached.expiresAt > now ? cached : undefined;
    const row = await this.db.selectFrom('access_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    if (!row || row.expires_at <= Date.now()) return undefined;
    const grant = {
      orgId: row.org_id,
      userId: row.user_id,
      consumerKey: row.consumer_key,
      scope: row.scope,
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
    };
    this.recent.set(hash, grant, grant.expiresAt, now);
    return grant;
  }

  /** Revokes every token of a connected app in this process's cache (the caller deletes the rows). */
  forgetConsumerKey(consumerKey: string): void {
    this.recent.deleteWhere((grant) => grant.consumerKey === consumerKey);
  }

  async deleteExpired(now = Date.now()): Promise<number> {
    const result = await this.db.deleteFrom('access_tokens').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
