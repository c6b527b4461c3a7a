import { decodeJwt, decodeProtectedHeader, errors as joseErrors, importX509, jwtVerify, type JWTPayload } from 'jose';
import { hasNul } from '../contract/json-limits.ts';
import type { Db } from '../store/database.ts';

/** An OAuth 2.0 error answer: `{"error": ..., "error_description": ...}` with HTTP 400 unless said otherwise. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

export interface AssertionPolicy {
  acceptedAudiences: string[];
  /** How far in the future `exp` may be. */
  assertionMaxLifetimeSeconds: number;
  clockSkewSeconds: number;
}

export interface VerifiedAssertion {
  consumerKey: string;
  orgId: string;
  userId: string;
  username: string;
  scopes: string;
}

/** Above this an `exp` cannot be seconds (it would be past the year 5000), so it is read as milliseconds. */
const MILLISECOND_EXP_THRESHOLD = 100_000_000_000;

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/**
 * Checks a JWT bearer assertion (RFC 7523) the way Salesforce does: RS256 only, signed by the key of the
 * certificate registered for the connected app named in `iss`, `sub` a user of that app's org, `aud` an
 * accepted login URL and `exp` present and in the future. Throws OAuthError on the first problem found.
 */
export async function verifyJwtBearerAssertion(
  db: Db,
  assertion: string,
  policy: AssertionPolicy,
  now = Date.now(),
): Promise<VerifiedAssertion> {
  let alg: unknown;
  let claims: JWTPayload;
  try {
    alg = decodeProtectedHeader(assertion).alg;
    claims = decodeJwt(assertion);
  } catch {
    throw new OAuthError('invalid_grant', 'The assertion is not a well-formed signed JWT.');
  }
  if (alg !== 'RS256') {
    throw new OAuthError('invalid_grant', `The assertion must be signed with RS256; "${String(alg)}" is not accepted.`);
  }
  if (typeof claims.iss !== 'string' || claims.iss === '' || hasNul(claims.iss)) {
    throw new OAuthError('invalid_client', 'The assertion has no iss claim naming the connected app consumer key.');
  }
  const app = await db.selectFrom('connected_apps').selectAll().where('consumer_key', '=', claims.iss).executeTakeFirst();
  if (!app || !app.active) {
    throw new OAuthError('invalid_client', 'The client identifier (iss) is not the consumer key of a connected app.');
  }

  const key = await importX509(app.certificate_pem, 'RS256');
  try {
    // exp is checked below, where milliseconds are understood; jose would read them as a far-future second count.
    await jwtVerify(assertion, key, {
      algorithms: ['RS256'],
      currentDate: new Date(now),
      clockTolerance: policy.clockSkewSeconds,
    });
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new OAuthError('invalid_grant', "The assertion's signature does not match the connected app's certificate.");
    }
    if (err instanceof joseErrors.JWTExpired) {
      throw new OAuthError('invalid_grant', 'The assertion has expired.');
    }
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      throw new OAuthError('invalid_grant', `The assertion's ${err.claim} claim is not valid: ${err.reason}.`);
    }
    throw new OAuthError('invalid_grant', 'The assertion could not be verified.');
  }

  checkExpiry(claims.exp, policy, now);
  checkAudience(claims.aud, policy.acceptedAudiences);

  if (typeof claims.sub !== 'string' || claims.sub === '' || hasNul(claims.sub)) {
    throw new OAuthError('invalid_grant', 'The assertion has no sub claim naming the user.');
  }
  const user = await db
    .selectFrom('users')
    .selectAll()
    .where('username', '=', claims.sub)
    .where('org_id', '=', app.org_id)
    .executeTakeFirst();
  if (!user) {
    throw new OAuthError('invalid_grant', `The user "${claims.sub}" does not exist in the connected app's org or has not approved it.`);
  }
  return { consumerKey: app.consumer_key, orgId: app.org_id, userId: user.user_id, username: user.username, scopes: app.scopes };
}

function checkExpiry(exp: unknown, policy: AssertionPolicy, now: number) {
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new OAuthError('invalid_grant', 'The assertion has no numeric exp claim.');
  }
  const expMs = exp > MILLISECOND_EXP_THRESHOLD ? exp : exp * 1000;
  if (expMs + policy.clockSkewSeconds * 1000 <= now) {
    throw new OAuthError('invalid_grant', 'The assertion has expired.');
  }
  if (expMs - now > policy.assertionMaxLifetimeSeconds * 1000) {
    throw new OAuthError('invalid_grant', `The assertion's exp is more than ${policy.assertionMaxLifetimeSeconds} seconds in the future.`);
  }
}

function checkAudience(aud: unknown, accepted: string[]) {
  const audiences = (Array.isArray(aud) ? aud : [aud]).filter((a): a is string => typeof a === 'string');
  const acceptedSet = new Set(accepted.map(trimSlash));
  if (!audiences.some((a) => acceptedSet.has(trimSlash(a)))) {
    throw new OAuthError('invalid_grant', `The audience is not valid; use one of: ${accepted.join(', ')}.`);
  }
}
