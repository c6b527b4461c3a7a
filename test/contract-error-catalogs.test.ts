import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiError, INTERACTION_ERRORS } from '../src/contract/interaction-errors.ts';
import { MANAGEMENT_ERROR_CODES, managementError } from '../src/contract/management-errors.ts';

describe('the Interaction API error catalog', () => {
  test('each code has one HTTP status, whichever name raises it', () => {
    const statusOf = new Map<number, number>();
    for (const [name, { code, status }] of Object.entries(INTERACTION_ERRORS)) {
      assert.equal(statusOf.get(code) ?? status, status, `${name} gives code ${code} another status`);
      statusOf.set(code, status);
    }
  });

  test('only the HTTP-status codes for what no Interaction API code describes are not five-digit codes', () => {
    const statusCodes = Object.values(INTERACTION_ERRORS)
      .map((e) => e.code)
      .filter((code) => code < 10000);
    assert.deepEqual([...new Set(statusCodes)].sort(), [404, 413, 415, 500]);
    for (const { code, status } of Object.values(INTERACTION_ERRORS)) if (code < 10000) assert.equal(code, status);
  });

  test('a refusal is raised by name, with its parameters in the message', () => {
    const err = apiError('InvalidCapacityWeight', { value: -2 });
    assert.deepEqual(
      [err.status, err.code, err.message],
      [400, 10014, '"capacityWeight" must be a number greater than or equal to 0; got -2.'],
    );
  });

  test('response headers ride along without changing the refusal', () => {
    const err = apiError('RequestInProgress').withHeaders({ 'Retry-After': '1' });
    assert.deepEqual([err.status, err.code, err.headers], [409, 10055, { 'Retry-After': '1' }]);
  });
});

describe('the management API error set', () => {
  test('codes are strings with one status each', () => {
    assert.deepEqual(MANAGEMENT_ERROR_CODES, {
      invalid_request: 400,
      unauthorized: 401,
      end_user_opted_out: 403,
      not_found: 404,
      conflict: 409,
      payload_too_large: 413,
      internal: 500,
    });
  });

  test('a management error renders its string code', () => {
    const err = managementError('conflict', 'Already there.');
    assert.deepEqual([err.status, err.toBody()], [409, { code: 'conflict', message: 'Already there.' }]);
  });
});
