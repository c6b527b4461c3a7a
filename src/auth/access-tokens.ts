import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../store/database.ts';

export interface AccessTokenGrant {
  orgId: string;
  userId: string;
  consumerKey: string;
  scope: string;
  issuedAt: number;
  expiresAt: number;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Access tokens of the form `<orgId>!<opaque>`. Only a hash is stored, so a copy of the database does
 * not hand out working tokens; the grant survives a restart because it lives in the store.
 */
export class AccessTokens {
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
    const row = await this.db.selectFrom('access_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
    if (!row || row.expires_at <= Date.now()) return undefined;
    return {
      orgId: row.org_id,
      userId: row.user_id,
      consumerKey: row.consumer_key,
      scope: row.scope,
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
    };
  }

  async deleteExpired(now = Date.now()): Promise<number> {
    const result = await this.db.deleteFrom('access_tokens').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
