/**
 * Whether a store error was caused by the values a request carried rather than by the store: PostgreSQL's
 * class 22 "data exception" (a NUL in text, an integer out of range, a malformed number...). Input is
 * validated at the edge; this is the net under it, so such a request is refused (400) and never a 500.
 */
export function isStoreInputError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code) && typeof severity === 'string';
}
