import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

/** How often the worker copies what has been committed since into the database file. */
const INTERVAL_MS = 100;

/**
 * WAL frames (pages of 4 KiB) at which a COMMIT on the serving connection checkpoints itself: the bound
 * on the WAL file (~40 MB). Beside a writer that never pauses, the worker's PASSIVE checkpoints cannot
 * copy the whole WAL, and SQLite starts the WAL over only once it has all been copied; this one, on the
 * serving connection between two transactions, can. By then the worker has copied all but the last few
 * commits, so it has little left to do. (SQLite's default, 1,000, had COMMITs on the event loop copy and
 * fsync a WAL's worth of pages several times a second under load.)
 */
const AUTOCHECKPOINT_FRAMES = 10_000;

/**
 * The worker's code. CommonJS evaluated in the worker: a file of its own would be TypeScript under tsx,
 * whose loader Node 20 does not carry into worker threads. It checkpoints PASSIVE, which takes no lock a
 * writer needs: it copies the frames no reader still needs, syncing the WAL before and the database after.
 * Its connection keeps the default synchronous=FULL, so those syncs happen (OFF would skip them).
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage(String(err));
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints of an SQLite database in WAL mode (`database`, the serving connection to `file`) on a
 * worker thread with a connection of its own, so that copying the WAL into the database file and
 * fsyncing it happen beside the event loop rather than in a COMMIT on it.
 *
 * Close it before the serving connection: the last connection to close checkpoints everything and removes
 * the WAL, so the database file alone then holds every commit.
 */
export function walCheckpoints(
  database: SqliteDatabase.Database,
  file: string,
  onError: (message: string) => void,
): { close(): Promise<void> } {
  database.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_FRAMES}`);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3'), intervalMs: INTERVAL_MS },
  });
  // Neither a checkpoint due nor a store left open holds the process.
  worker.unref();
  worker.on('message', (message: string) => onError(message));
  worker.on('error', (err) => onError(String(err)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    close: async () => {
      // Held again until it has closed its connection, or a process with nothing else to do would exit first.
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}
