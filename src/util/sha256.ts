import crypto from 'node:crypto';

/**
 * SHA-256 of a string in one call. crypto.hash (Node 20.12 and later) skips the Hash object that
 * createHash builds, which for the short inputs hashed on every request (a token, a request's fingerprint
 * and its idempotency key) costs more than the hashing itself; on older Node 20 releases, createHash.
 */
export const sha256: (data: string, encoding: 'hex' | 'base64url') => string =
  // Absent before Node 20.12 (engines: >= 20.11), though the types (of Node 20's latest) always have it.
  typeof crypto.hash === 'function'
    ? (data, encoding) => crypto.hash('sha256', data, encoding)
    : (data, encoding) => crypto.createHash('sha256').update(data).digest(encoding);
