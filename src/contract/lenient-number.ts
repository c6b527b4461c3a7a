/*
 * Where the contract says number, a number may also arrive as a numeric string ("1", "0.5", "1700000000000"):
 * Salesforce's own connector sends capacityWeight read from an environment variable that way, and the
 * Interaction API (a Jackson service) coerces such strings by default. This is the one place that rule
 * lives; every number the contract module reads goes through it.
 */

/** JSON number syntax, without surrounding spaces: what Jackson accepts as a number in a string. */
const NUMERIC_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The number `value` stands for (a finite number, or a string in JSON number syntax), else undefined. */
export function lenientNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !NUMERIC_TEXT.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** As `lenientNumber`, but only a safe integer. */
export function lenientInteger(value: unknown): number | undefined {
  const n = lenientNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}
