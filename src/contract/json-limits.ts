import { badRequest } from './api-error.ts';
import { ErrorCode } from './error-codes.ts';

/**
 * How deeply objects and arrays may nest in any JSON the bridge accepts. The contract's deepest documents
 * (a form message with nested sections) stay under 15; anything far deeper is an attack or a bug, and
 * answering it would overflow the stack where the bridge serializes it again (fingerprints, storage).
 */
export const MAX_JSON_DEPTH = 64;

/** The largest value of the stores' `integer` columns (PostgreSQL's int4). */
export const MAX_INT32 = 2_147_483_647;

/** U+0000 is valid JSON and a valid URL escape, but PostgreSQL text cannot hold it: refused at the edge. */
export const hasNul = (s: string): boolean => s.includes('\u0000');

/**
 * Refuses (400, 10089) parsed JSON nested deeper than MAX_JSON_DEPTH or holding U+0000 in any key or
 * string. Iterative: no recursion to overflow, whatever the input.
 */
export function checkJsonLimits(value: unknown, where = 'The request body'): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value: v, depth } = next;
    if (typeof v === 'string') {
      if (hasNul(v)) throw badRequest(ErrorCode.InvalidParameters, `${where} holds a NUL character (U+0000), which is not accepted.`);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > MAX_JSON_DEPTH) {
      throw badRequest(ErrorCode.InvalidParameters, `${where} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`);
    }
    for (const [key, child] of Object.entries(v)) {
      if (hasNul(key)) throw badRequest(ErrorCode.InvalidParameters, `${where} holds a NUL character (U+0000), which is not accepted.`);
      stack.push({ value: child, depth: depth + 1 });
    }
  }
}
