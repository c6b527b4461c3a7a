import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { OutboundEventWriter } from '../src/local-org/outbound-event-log.ts';
import { Wakeup } from '../src/util/wakeup.ts';
import { outboundEventInput } from './helpers/outbound-event-input.ts';
import { waitFor } from './helpers/outbound.ts';
import { openTestStore } from './helpers/test-store.ts';

const writer = new OutboundEventWriter(new Wakeup());

/** Writes `count` events through the store's group commit, all at once. */
const write = (store: Awaited<ReturnType<typeof openTestStore>>['store'], prefix: string, count: number) =>
  Promise.all(
    Array.from({ length: count }, (_, i) => store.runTransaction((tx) => writer.append(tx, outboundEventInput(`${prefix}-${i}`)))),
  );

/**
 * Events of `prefix` in the database file alone, as a backup that copies only that file would have them:
 * what has been checkpointed. undefined while a checkpoint writing the file leaves the copy unreadable.
 */
function inFileAlone(file: string, prefix: string): number | undefined {
  const copy = `${file}.copy-${process.pid}`;
  fs.copyFileSync(file, copy);
  try {
    const db = new Database(copy, { readonly: true });
    try {
      const row = db.prepare('select count(*) as n from outbound_events where conversation_identifier like ?').get(`${prefix}-%`) as {
        n: number;
      };
      return row.n;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  } finally {
    fs.rmSync(copy, { force: true });
  }
}

// SQLite's checkpoints (the WAL copied into the database file) run on a worker thread with a connection of
// its own, not in a COMMIT on the event loop (src/store/wal-checkpoints.ts).
describe('SQLite checkpoints on a worker thread', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  before(async () => {
    store = await openTestStore('sqlite');
  });
  after(() => store.dispose());

  test('the database file catches up with the commits long before the WAL is full', async () => {
    await write(store.store, 'caught-up', 300);
    // Far fewer WAL frames than the serving connection's own automatic checkpoint waits for: only the worker
    // copies them into the database file, where a copy of the file alone (no WAL) shows them.
    await waitFor('the worker to copy the commits into the database file', () => inFileAlone(store.store.location, 'caught-up') === 300);
  });

  test('closing the store leaves every commit in the database file and no WAL', async () => {
    const other = await openTestStore('sqlite');
    const file = other.store.location;
    try {
      await write(other.store, 'closed', 200);
      await other.store.close();
      assert.equal(fs.existsSync(`${file}-wal`), false, 'the WAL was checkpointed and removed');
      assert.equal(inFileAlone(file, 'closed'), 200);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  // The worker does not hold the process open, so close() must: a process whose last work is closing its
  // store would otherwise end with the close unfinished (exit code 13) and the WAL left beside the file.
  test('closing the store in a process with nothing else to do finishes the close', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-store-'));
    try {
      const script = `
        import { openStore } from ${JSON.stringify(path.resolve('src/store/database.ts'))};
        const store = await openStore({ dataDir: ${JSON.stringify(dataDir)} });
        await store.close();
        console.log('closed');`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
      assert.equal(stdout.trim(), 'closed');
      assert.equal(fs.existsSync(path.join(dataDir, 'bridge.sqlite-wal')), false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
