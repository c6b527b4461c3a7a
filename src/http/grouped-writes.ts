import { retryingConflicts } from '../store/conflicts.ts';
import type { Db } from '../store/database.ts';

interface Pending {
  work: (db: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for small independent writes: those queued while a transaction is being prepared or
 * committed share the next one, and each caller is answered only once its write has committed. On
 * SQLite (synchronous=FULL) every commit is an fsync on the event loop, so under concurrent load this
 * turns one fsync per write into one per group.
 *
 * A write that fails fails its whole group (the transaction rolls back): meant for single statements
 * that only a broken store makes fail, and that may run twice (a group PostgreSQL undid to break a
 * deadlock runs again).
 */
export class GroupedWrites {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly db: Db) {}

  run<T>(work: (db: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.kick();
    });
  }

  private kick() {
    if (this.flushing) return;
    // The check phase: writes queued by requests read in this turn of the event loop join the group.
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flush())
      .finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0) this.kick();
      });
  }

  private async flush() {
    const group = this.queue.splice(0, this.queue.length);
    try {
      // Replicas group their writes in any order, so two groups can deadlock on each other's keys; the
      // group undone for it is run again (its writes are single statements, safe to run twice).
      const results = await retryingConflicts(
        (work) => this.db.transaction().execute(work),
        async (trx) => {
          const out: unknown[] = [];
          for (const p of group) out.push(await p.work(trx));
          return out;
        },
      );
      group.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      for (const p of group) p.reject(err);
    }
  }
}
