import type { Db } from './database.ts';

/** One call waiting for its batch. */
interface Waiting<Item, Result> {
  item: Item;
  keys: readonly string[];
  resolve(result: Result): void;
  reject(err: unknown): void;
}

/** The calls of one database handle: those waiting, and how many batches it has running. */
interface Queue<Item, Result> {
  waiting: Waiting<Item, Result>[];
  running: number;
  scheduled: boolean;
}

/**
 * Calls of a statement that stores many rows at once, gathered into batches: the group commit of a
 * database that commits each statement by itself. Calls made in one turn of the event loop, and those
 * made while `concurrency` batches are already running, go out together as one statement, so they share
 * its round trip and its commit (its WAL flush), and each is answered when that statement has committed.
 * With nothing running a call waits one turn at most.
 *
 * Two calls whose keys meet never share a batch (the later one waits for the next): rows that would
 * collide in one statement (the same idempotency key, the same entry id) keep the outcome they would
 * have had one after the other. A batch that fails, fails each of its calls with the same error.
 */
export class StatementBatches<Item, Result> {
  private readonly queues = new WeakMap<Db, Queue<Item, Result>>();

  constructor(
    private readonly run: (db: Db, items: readonly Item[]) => Promise<readonly Result[]>,
    private readonly keysOf: (item: Item) => readonly string[],
    private readonly limits: { concurrency: number; batchSize: number } = { concurrency: 2, batchSize: 100 },
  ) {}

  add(db: Db, item: Item): Promise<Result> {
    let queue = this.queues.get(db);
    if (!queue) {
      queue = { waiting: [], running: 0, scheduled: false };
      this.queues.set(db, queue);
    }
    const waiting = queue;
    return new Promise<Result>((resolve, reject) => {
      waiting.waiting.push({ item, keys: this.keysOf(item), resolve, reject });
      this.schedule(db, waiting);
    });
  }

  private schedule(db: Db, queue: Queue<Item, Result>) {
    if (queue.scheduled || queue.running >= this.limits.concurrency || queue.waiting.length === 0) return;
    queue.scheduled = true;
    // The rest of this turn's calls join the batch.
    setImmediate(() => {
      queue.scheduled = false;
      while (queue.running < this.limits.concurrency && queue.waiting.length > 0) this.send(db, queue, this.take(queue));
    });
  }

  /** The next batch: the calls waiting longest whose keys meet none already in it. */
  private take(queue: Queue<Item, Result>): Waiting<Item, Result>[] {
    const batch: Waiting<Item, Result>[] = [];
    const taken = new Set<string>();
    const left: Waiting<Item, Result>[] = [];
    for (const call of queue.waiting) {
      if (batch.length < this.limits.batchSize && !call.keys.some((k) => taken.has(k))) {
        batch.push(call);
        for (const k of call.keys) taken.add(k);
      } else {
        left.push(call);
      }
    }
    queue.waiting = left;
    return batch;
  }

  private send(db: Db, queue: Queue<Item, Result>, batch: Waiting<Item, Result>[]) {
    queue.running++;
    this.run(
      db,
      batch.map((call) => call.item),
    ).then(
      (results) => {
        queue.running--;
        batch.forEach((call, i) => call.resolve(results[i]!));
        this.schedule(db, queue);
      },
      (err: unknown) => {
        queue.running--;
        for (const call of batch) call.reject(err);
        this.schedule(db, queue);
      },
    );
  }
}
