import type { ApiError } from './api-error.ts';
import { apiError } from './interaction-errors.ts';

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

/** Why parsed JSON is refused whatever the API: too deep, or a NUL in a key or string. */
export type JsonLimitProblem = 'too_deep' | 'nul';

/**
 * The first limit parsed JSON breaks: nested deeper than MAX_JSON_DEPTH, or U+0000 in any key or string.
 * Iterative: no recursion to overflow, whatever the input.
 */
export function jsonLimitProblem(value: unknown): JsonLimitProblem | undefined {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value: v, depth } = next;
    if (typeof v === 'string') {
      if (hasNul(v)) return 'nul';
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > MAX_JSON_DEPTH) return 'too_deep';
    for (const [key, child] of Object.entries(v)) {
      if (hasNul(key)) return 'nul';
      stack.push({ value: child, depth: depth + 1 });
    }
  }
  return undefined;
}

/** The problem in words, for APIs whose refusals carry a free message (the management API). */
export function describeJsonLimitProblem(problem: JsonLimitProblem, where: string): string {
  return problem === 'nul'
    ? `${where} holds a NUL character (U+0000), which is not accepted.`
    : `${where} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`;
}

/** A broken limit as the Interaction API's refusal (400, 10089). */
export function jsonLimitRefusal(problem: JsonLimitProblem, where: string): ApiError {
  return problem === 'nul' ? apiError('NulInInput', { where }) : apiError('BodyTooDeep', { where, maxDepth: MAX_JSON_DEPTH });
}

/**
 * True when the JSON text `text` (valid JSON) cannot break a limit of jsonLimitProblem, so its parsed value
 * need not be walked; false when it might. Why that holds:
 * - NUL: JSON may not hold U+0000 raw (RFC 8259 §7: control characters in strings must be escaped, and
 *   outside strings only whitespace and the grammar's tokens may appear), and the only escape that yields
 *   it is the six characters `\u0000` (the `u` is lowercase by the grammar, and `0` has no case). Text
 *   without them parses to keys and strings without NUL. (Text with them may hold `\\u0000`, an escaped
 *   backslash: a false "might", which only costs the walk.)
 * - Depth: jsonLimitProblem refuses a container at depth MAX_JSON_DEPTH (the root container is at depth
 *   0), which sits at the end of a chain of MAX_JSON_DEPTH + 1 nested containers, each opened by its own `{`
 *   or `[` and closed by its own `}` or `]`: text shorter than 2 × (MAX_JSON_DEPTH + 1) characters cannot
 *   hold one, nor can text with at most MAX_JSON_DEPTH opening brackets anywhere (counting those inside
 *   strings as well only overcounts).
 */
export function jsonTextWithinLimits(text: string): boolean {
  if (text.includes('\\u0000')) return false;
  if (text.length < 2 * (MAX_JSON_DEPTH + 1)) return true;
  let opened = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c === 0x7b || c === 0x5b) && ++opened > MAX_JSON_DEPTH) return false;
  }
  return true;
}

/** Refuses (400, 10089) JSON of the Interaction API that breaks a limit of jsonLimitProblem. */
export function checkJsonLimits(value: unknown, where = 'The request body'): void {
  const problem = jsonLimitProblem(value);
  if (problem !== undefined) throw jsonLimitRefusal(problem, where);
}
