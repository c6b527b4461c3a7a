/**
 * Wakes sleeping loops early when there is new work (an event appended, a delivery due). Loops still
 * poll on their own interval, so work written by another process sharing the store is found too.
 * A loop reads `version` before looking for work and passes it to wait(): a notify() that came while
 * it was busy then ends the wait at once instead of being lost.
 */
export class Wakeup {
  private waiters = new Set<() => void>();
  version = 0;

  notify(): void {
    this.version++;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify() (or at once if one came since `seen`), or after `ms`. */
  wait(ms: number, seen?: number): Promise<void> {
    if (seen !== undefined && seen !== this.version) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
