import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

const load = (env: Record<string, string>) => loadConfig(env, { readDotEnv: false });

test('the stop settings: defaults, milliseconds, and a delay that must fit in the timeout', () => {
  assert.deepEqual(load({}).shutdown, { delayMs: 5000, timeoutMs: 30_000 });
  assert.deepEqual(load({ SHUTDOWN_DELAY_SECONDS: '0', SHUTDOWN_TIMEOUT_SECONDS: '2.5' }).shutdown, { delayMs: 0, timeoutMs: 2500 });
  assert.equal(load({}).outbound.lockPollMs, 2000);
  for (const [env, problem] of [
    [{ SHUTDOWN_DELAY_SECONDS: '30' }, /SHUTDOWN_DELAY_SECONDS: must be less than SHUTDOWN_TIMEOUT_SECONDS/],
    [{ SHUTDOWN_DELAY_SECONDS: '-1' }, /SHUTDOWN_DELAY_SECONDS/],
    [{ SHUTDOWN_TIMEOUT_SECONDS: '0' }, /SHUTDOWN_TIMEOUT_SECONDS/],
    [{ OUTBOUND_LOCK_POLL_MS: '10' }, /OUTBOUND_LOCK_POLL_MS/],
  ] as const) {
    assert.throws(
      () => load(env),
      (err: unknown) => err instanceof ConfigError && problem.test(err.message),
    );
  }
});
