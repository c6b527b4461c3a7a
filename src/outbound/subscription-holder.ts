import type { Logger } from 'pino';
import type { ExclusiveLock } from '../store/exclusive-lock.ts';

/** What the holder runs while it holds the lock: a fresh subscriber each time. */
export interface Subscription {
  start(): void;
  /** Resolves once the transaction under way has committed its events and checkpoint. */
  stop(): Promise<void>;
}

/**
 * Of the replicas sharing a store, one subscribes to the org's topic: the one holding the lock; the
 * others try to take it every `pollMs`. Each event counts against the org's delivery allocation once
 * per subscriber, so N subscribers would cost N times as much for the same events. Correctness does
 * not rest on the lock: the subscriber stores each event once (by event id) and resumes from the shared
 * checkpoint, so a holder that lost its lock connection but still runs briefly stores nothing twice.
 */
export class SubscriptionHolder {
  private stopped = false;
  private holding = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: { lock: ExclusiveLock; pollMs: number; logger: Logger; subscription: () => Subscription }) {}

  get holds(): boolean {
    return this.holding;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stops the subscription (its checkpoint committed), then frees the lock for another replica. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.o.lock.release();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (await this.o.lock.tryAcquire()) await this.hold();
      } catch (err) {
        if (this.holding) this.o.logger.warn({ err }, 'lost the outbound subscription lock; another replica may take it');
        else this.o.logger.warn({ err }, 'cannot reach the outbound subscription lock; trying again');
      }
      if (!this.isStopped()) await this.pause();
    }
  }

  /** Runs a subscriber until this process stops or the lock's connection fails. */
  private async hold(): Promise<void> {
    this.holding = true;
    this.o.logger.info('holds the outbound subscription');
    const subscription = this.o.subscription();
    subscription.start();
    try {
      while (!this.stopped) {
        await this.pause();
        if (!this.isStopped()) await this.o.lock.check();
      }
    } finally {
      await subscription.stop();
      this.holding = false;
      this.o.logger.info('released the outbound subscription');
    }
  }

  /** Read again after each await: stop() may have run meanwhile. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.o.pollMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
