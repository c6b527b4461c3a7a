import crypto from 'node:crypto';

/**
 * SHA-256 of a string in one call. crypto.hash skips the Hash object that createHash builds, which for
 * the short inputs hashed on every request (a token, a request's fingerprint and its idempotency key)
 * costs more than the hashing itself.
 */
export function sha256(data: string, encoding: 'hex' | 'base64url'): string {
  return crypto.hash('sha256', data, encoding);
}
