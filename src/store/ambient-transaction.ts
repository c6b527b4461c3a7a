import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transaction } from 'kysely';
import type { Db } from './database.ts';
import type { Tables } from './tables.ts';

/**
 * Lets one operation's writes share a single transaction without passing it through every call: inside
 * `run()`, the `db` handed out here acts on that transaction, and its `transaction().execute()` joins it
 * instead of opening another. Used for the local org, so a request's effect and its idempotency record
 * commit together — one fsync per request, and no window where one is stored without the other.
 * Everything given this `db` must use it (not another handle) while a run is open: on SQLite another
 * handle would wait for the connection the run holds.
 */
export class AmbientTransactions {
  private readonly current = new AsyncLocalStorage<Transaction<Tables>>();
  readonly db: Db;

  constructor(private readonly base: Db) {
    const current = this.current;
    this.db = new Proxy(base, {
      get(target, prop) {
        const trx = current.getStore();
        if (trx && prop === 'transaction') {
          return () => ({ execute: <T>(fn: (t: Transaction<Tables>) => Promise<T>) => fn(trx) });
        }
        const receiver: object = trx ?? target;
        const value = Reflect.get(receiver, prop);
        return typeof value === 'function' ? value.bind(receiver) : value;
      },
    });
  }

  /** Runs `fn` in one transaction (or in the one already open): it commits when `fn` resolves, rolls back when it throws. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.current.getStore()) return fn();
    return this.base.transaction().execute((trx) => this.current.run(trx, fn));
  }
}
