import type { Transaction } from 'kysely';
import type { Db } from './database.ts';
import type { Tables } from './tables.ts';

/**
 * An open transaction, passed explicitly to everything that writes as part of one operation. Kysely's
 * Transaction is a distinct class (private fields), so the base handle cannot be passed where a Tx is
 * expected, and `tx.transaction()` throws: code given a Tx cannot open a second transaction or wait for
 * a second connection (which on SQLite, with its one connection, would never come).
 */
export type Tx = Transaction<Tables>;

const afterCommitHooks = new WeakMap<Tx, (() => void)[]>();

/**
 * Runs `work` in one transaction: it commits when `work` resolves and rolls back when it throws. Hooks
 * registered with afterCommit() run once the commit has returned, and never after a rollback.
 */
export async function inTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const hooks: (() => void)[] = [];
  const result = await db.transaction().execute((tx) => {
    afterCommitHooks.set(tx, hooks);
    return work(tx);
  });
  for (const hook of hooks) hook();
  return result;
}

/**
 * Runs `hook` after `tx` has committed: for telling readers in this process about new rows, which they
 * cannot see before the commit. The transaction must have been opened by inTransaction().
 */
export function afterCommit(tx: Tx, hook: () => void): void {
  const hooks = afterCommitHooks.get(tx);
  if (!hooks) throw new Error('afterCommit() needs a transaction opened by inTransaction()');
  hooks.push(hook);
}
