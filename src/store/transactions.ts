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
  let runHooks = () => {};
  const result = await db.transaction().execute((tx) => {
    runHooks = collectCommitHooks(tx);
    return work(tx);
  });
  runHooks();
  return result;
}

/** How an operation's transaction is run: inTransaction() of one store, or its GroupCommit. */
export type TransactionRunner = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

/**
 * Lets afterCommit() take hooks for `tx` (a transaction, or a savepoint standing for one) and answers
 * the function that runs them: to be called only once the work done through `tx` has committed.
 */
export function collectCommitHooks(tx: Tx): () => void {
  const hooks: (() => void)[] = [];
  afterCommitHooks.set(tx, hooks);
  return () => {
    for (const hook of hooks) hook();
  };
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
