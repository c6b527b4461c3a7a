import { sql, type ControlledTransaction } from 'kysely';
import type { Db } from './database.ts';
import { sqliteConnectionOf } from './prepared-query.ts';
import type { Tables } from './tables.ts';
import { collectCommitHooks, type Tx } from './transactions.ts';

/** A group stops taking members at this size, so a steady stream of requests still gets commits. */
const MAX_MEMBERS = 256;

/**
 * Members run one at a time and each releases its savepoint before the next begins, so one name serves
 * them all, and its statements keep the same text (and stay prepared).
 */
const SAVEPOINT = 'operation';

interface Member {
  committed(): void;
  failed(err: unknown): void;
}

interface Group {
  transaction: Promise<ControlledTransaction<Tables>>;
  /** Lets go of the connection once the transaction has ended (see begin()); resolves when it has. */
  release(): Promise<void>;
  /** Members run one after another: savepoints nest, so two members' statements must not interleave. */
  queue: Promise<void>;
  joined: number;
  running: number;
  /** Members whose work succeeded: answered once the group has committed, or failed with it. */
  succeeded: Member[];
  /** A statement of the group's own (a savepoint, the begin) failed: nothing in it may commit. */
  broken?: Error;
  flushing: boolean;
}

/**
 * Group commit for SQLite, whose commits wait for an fsync on the one event loop: the operations that
 * arrive while a transaction is open share it and its one fsync. Each runs in a savepoint of its own, so
 * a refused or failing one rolls back only its own writes and is answered at once; a successful one is
 * answered (and its afterCommit hooks run) only once the shared transaction has committed, so every
 * answer still stands for durable writes. The group commits when no member is left running, in the
 * event loop's check phase, which lets the requests read in the same turn join it first.
 *
 * The contract is inTransaction()'s: `run(work)` resolves with what `work` resolved with, once committed.
 *
 * `syncLog` moves the group's fsync off the event loop: the group's COMMIT runs with synchronous=NORMAL
 * (the WAL frames are written, not synced) and `syncLog` then fsyncs the WAL file on the thread pool;
 * only after that are the members answered. SQLite's synchronous=FULL in WAL mode is exactly NORMAL plus
 * that sync after each commit, so an answer stands for the same durable writes, while the event loop goes
 * on with the next group during the sync. Every other transaction on the connection keeps FULL: the
 * setting is switched on the group's own connection, before its BEGIN and back after its COMMIT, while
 * nothing else can use the connection.
 */
export class GroupCommit {
  private open: Group | undefined;

  /**
   * Where the store lets statements run straight on its connection (runPreparedQueriesDirectly): each
   * member's savepoint is taken and released there, and the member works in the group's transaction
   * itself, rather than in a Kysely savepoint object built for it. Members run one at a time, so the
   * transaction's after-commit hooks are collected for one member at a time.
   */
  private readonly onConnection:
    { begin: () => Promise<unknown>; rollBack: () => Promise<unknown>; release: () => Promise<unknown> } | undefined;

  constructor(
    private readonly db: Db,
    private readonly syncLog?: () => Promise<void>,
  ) {
    const connection = sqliteConnectionOf(db);
    this.onConnection = connection && {
      begin: () => connection.runOnConnection(`savepoint "${SAVEPOINT}"`, []),
      rollBack: () => connection.runOnConnection(`rollback to "${SAVEPOINT}"`, []),
      release: () => connection.runOnConnection(`release "${SAVEPOINT}"`, []),
    };
  }

  readonly run = <T>(work: (tx: Tx) => Promise<T>): Promise<T> => {
    const group = (this.open ??= this.begin());
    group.joined++;
    group.running++;
    if (group.joined >= MAX_MEMBERS) this.open = undefined;
    return new Promise<T>((resolve, reject) => {
      group.queue = group.queue
        .then(() => this.member(group, work, resolve, reject))
        .finally(() => {
          if (--group.running === 0) setImmediate(() => void this.flush(group));
        });
    });
  };

  private begin(): Group {
    let release = (): Promise<void> => Promise.resolve();
    const transaction = new Promise<ControlledTransaction<Tables>>((resolve, reject) => {
      let ended = () => {};
      const transactionEnded = new Promise<void>((r) => (ended = r));
      // Holds the store's connection from before BEGIN until after COMMIT (and the setting restored).
      const held = this.db.connection().execute(async (connection) => {
        if (this.syncLog) await sql`pragma synchronous = NORMAL`.execute(connection);
        try {
          resolve(await connection.startTransaction().execute());
          await transactionEnded;
        } finally {
          if (this.syncLog) await sql`pragma synchronous = FULL`.execute(connection);
        }
      });
      held.catch(reject);
      release = () => {
        ended();
        return held;
      };
    });
    // Each member awaits it and answers its failure; this only keeps it from being reported unhandled.
    transaction.catch(() => {});
    return { transaction, release: () => release(), queue: Promise.resolve(), joined: 0, running: 0, succeeded: [], flushing: false };
  }

  private async member<T>(
    group: Group,
    work: (tx: Tx) => Promise<T>,
    resolve: (value: T) => void,
    reject: (err: unknown) => void,
  ): Promise<void> {
    let savepoint: Savepoint;
    try {
      if (group.broken) throw group.broken;
      savepoint = await this.savepoint(await group.transaction);
    } catch (err) {
      group.broken ??= asError(err);
      reject(err);
      return;
    }
    const runHooks = collectCommitHooks(savepoint.tx);
    let result: T;
    try {
      result = await work(savepoint.tx);
    } catch (err) {
      try {
        await savepoint.rollBack();
        await savepoint.release();
      } catch (undo) {
        group.broken ??= asError(undo);
      }
      reject(err);
      return;
    }
    try {
      await savepoint.release();
    } catch (err) {
      group.broken ??= asError(err);
      reject(err);
      return;
    }
    group.succeeded.push({
      committed: () => {
        try {
          runHooks();
          resolve(result);
        } catch (err) {
          reject(err);
        }
      },
      failed: reject,
    });
  }

  /** A member's savepoint in the group's transaction: the handle it works through, and how it ends. */
  private async savepoint(transaction: ControlledTransaction<Tables>): Promise<Savepoint> {
    const direct = this.onConnection;
    if (direct) {
      await direct.begin();
      return { tx: transaction, rollBack: direct.rollBack, release: direct.release };
    }
    const savepoint = await transaction.savepoint(SAVEPOINT).execute();
    return {
      tx: savepoint,
      rollBack: () => savepoint.rollbackToSavepoint(SAVEPOINT).execute(),
      release: () => savepoint.releaseSavepoint(SAVEPOINT).execute(),
    };
  }

  private async flush(group: Group): Promise<void> {
    if (group.running > 0 || group.flushing) return;
    group.flushing = true;
    if (this.open === group) this.open = undefined;
    let transaction: ControlledTransaction<Tables>;
    try {
      transaction = await group.transaction;
    } catch {
      return; // never began: every member has been answered with that failure
    }
    try {
      if (group.broken) throw group.broken;
      await transaction.commit().execute();
      await group.release();
      await this.syncLog?.();
    } catch (err) {
      if (!transaction.isCommitted) {
        await transaction
          .rollback()
          .execute()
          .catch(() => {});
      }
      await group.release().catch(() => {});
      for (const member of group.succeeded) member.failed(err);
      return;
    }
    for (const member of group.succeeded) member.committed();
  }
}

interface Savepoint {
  tx: Tx;
  rollBack: () => Promise<unknown>;
  release: () => Promise<unknown>;
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));
