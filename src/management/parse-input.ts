import type { z } from 'zod';
import { badRequest } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';

/** Validates a management request body or query; the first problem becomes a 400 with code 10089. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest(ErrorCode.InvalidParameters, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}
