/**
 * A number as JSON clients send it: a JSON number, or a string holding one (as read from an environment
 * variable or a form), since Salesforce's own JSON services coerce numeric strings where a number is due.
 * Anything else (booleans, empty or padded strings, NaN) is no number: undefined.
 */
export function lenientNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** A safe integer as {@link lenientNumber} reads it, or undefined. */
export function lenientInteger(value: unknown): number | undefined {
  const n = lenientNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}
