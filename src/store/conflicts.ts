import type { TransactionRunner, Tx } from './transactions.ts';

/**
 * PostgreSQL's SQLSTATEs for a transaction it undid so that others could go on: a deadlock it broke
 * (40P01) or a serialization conflict (40001). Nothing of the transaction was kept, and PostgreSQL's
 * advice is to run it again.
 */
const UNDONE_FOR_CONFLICT = new Set(['40P01', '40001']);

export function isUndoneForConflict(err: unknown): boolean {
  return typeof err === 'object' && err !== null && UNDONE_FOR_CONFLICT.has((err as { code?: unknown }).code as string);
}

/**
 * Runs `work` in a transaction of `run`, and runs it again in a new one (up to `attempts` in all) when
 * PostgreSQL undid it for a conflict, so a request that met another one's locks in the wrong order is
 * answered, not failed. Only for work whose every effect is in the transaction: a second attempt starts
 * from nothing.
 */
export async function retryingConflicts<T>(run: TransactionRunner, work: (tx: Tx) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(work);
    } catch (err) {
      if (attempt >= attempts || !isUndoneForConflict(err)) throw err;
    }
  }
}
