import type { z } from 'zod';
import { managementError } from '../contract/management-errors.ts';

/** Validates a management request body or query; the first problem becomes a 400 invalid_request. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw managementError('invalid_request', issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'The request is not valid.');
  }
  return parsed.data;
}
