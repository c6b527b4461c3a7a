/**
 * The token of an `Authorization: Bearer <token>` header, or undefined. The scheme name is
 * case-insensitive (RFC 9110); trailing whitespace is tolerated because proxies and curl scripts add it.
 */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}
