import assert from 'node:assert/strict';
import { ApiError } from '../../src/contract/api-error.ts';

/** The refusal `run` throws, as the wire would show it: HTTP status and Interaction API code. */
export function refusalOf(run: () => unknown): { status: number; code: number } {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    return { status: err.status, code: err.code };
  }
  assert.fail('the request was accepted');
}
