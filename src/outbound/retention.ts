import type { Logger } from 'pino';
import type { Db } from '../store/database.ts';
import type { TransactionRunner } from '../store/transactions.ts';

/** Events looked at per step of a sweep; each step deletes in one short transaction. */
const STEP = 100;

export interface SweptOutbound {
  events: number;
  deliveries: number;
  parked: number;
}

/**
 * Deletes what the outbound path is done with: each received event stored before `cutoff` none of whose
 * deliveries is pending (every one succeeded or was dead-lettered), with its delivery records, and the
 * events parked before `cutoff`. An event with a delivery still pending stays, however old, so nothing
 * accepted for delivery is lost.
 *
 * It walks the events from the oldest in steps, and stops at the first one young enough to keep: sequences
 * grow with the time of storing, so a sweep reads little beyond what it deletes. Its statements select by
 * sequence range, not by lists of ids, so each has one text (and stays one prepared statement).
 */
export async function sweepOutbound(
  db: Db,
  runTransaction: TransactionRunner,
  cutoff: number,
  /** Called after each step with what the sweep has deleted so far (a first sweep of a large store takes many). */
  onStep: (soFar: SweptOutbound) => void = () => {},
): Promise<SweptOutbound> {
  const swept: SweptOutbound = { events: 0, deliveries: 0, parked: 0 };
  for (let after = 0; ;) {
    const rows = await db
      .selectFrom('normalized_events')
      .select(['sequence', 'received_at'])
      .where('sequence', '>', after)
      .orderBy('sequence')
      .limit(STEP)
      .execute();
    const young = rows.findIndex((r) => r.received_at >= cutoff);
    const old = young === -1 ? rows : rows.slice(0, young);
    if (old.length === 0) break;
    const through = old.at(-1)!.sequence;
    const [events, deliveries] = await runTransaction(async (tx) => {
      const deleted = await tx
        .deleteFrom('normalized_events')
        .where('sequence', '>', after)
        .where('sequence', '<=', through)
        .where('received_at', '<', cutoff)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('webhook_deliveries as d')
                .select('d.delivery_id')
                .whereRef('d.event_sequence', '=', 'normalized_events.sequence')
                .where('d.status', '=', 'pending'),
            ),
          ),
        )
        .executeTakeFirst();
      // The records of the events just deleted: in the range, and no longer with an event.
      const orphans = await tx
        .deleteFrom('webhook_deliveries')
        .where('event_sequence', '>', after)
        .where('event_sequence', '<=', through)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb.selectFrom('normalized_events as e').select('e.sequence').whereRef('e.sequence', '=', 'webhook_deliveries.event_sequence'),
            ),
          ),
        )
        .executeTakeFirst();
      return [Number(deleted.numDeletedRows), Number(orphans.numDeletedRows)];
    });
    swept.events += events;
    swept.deliveries += deliveries;
    onStep({ ...swept });
    after = through;
    if (old.length < rows.length || rows.length < STEP) break;
  }
  const parked = await db.deleteFrom('parked_events').where('parked_at', '<', cutoff).executeTakeFirst();
  swept.parked = Number(parked.numDeletedRows);
  return swept;
}

/** How often the sweep runs; it runs once at start too. */
const SWEEP_EVERY_MS = 10 * 60 * 1000;
/** A long sweep logs its progress each time it has deleted this many more events. */
const PROGRESS_EVERY = 100_000;

/** Sweeps every ten minutes what is older than `retentionHours`; `stop()` ends it (waiting for a sweep under way). */
export function startOutboundRetention(db: Db, runTransaction: TransactionRunner, retentionHours: number, logger: Logger) {
  let running: Promise<void> | undefined;
  const sweep = () => {
    // A sweep still under way (a large backlog) is left to finish; the next tick starts the next one.
    if (running) return;
    let reported = 0;
    const progress = (soFar: SweptOutbound) => {
      if (soFar.events - reported < PROGRESS_EVERY) return;
      reported = soFar.events;
      logger.info({ ...soFar, retentionHours }, 'outbound retention: still deleting events past their retention');
    };
    running = sweepOutbound(db, runTransaction, Date.now() - retentionHours * 3600_000, progress)
      .then((swept) => {
        if (swept.events + swept.deliveries + swept.parked > 0) {
          logger.info({ ...swept, retentionHours }, 'outbound retention: deleted events past their retention');
        }
      })
      .catch((err: unknown) => logger.warn({ err }, 'outbound retention sweep failed'))
      .finally(() => (running = undefined));
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
