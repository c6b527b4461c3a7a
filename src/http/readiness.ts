import type { RequestHandler } from 'express';

/**
 * Whether this process should get new traffic: not ready while it starts, ready once every part
 * listens, and not ready again from the moment it is told to stop, while it still serves what
 * arrives until the load balancer has noticed. A draining process answers with `Connection: close`,
 * so clients and balancers holding a keep-alive connection to it open their next one elsewhere.
 */
export class Readiness {
  private state: 'starting' | 'ready' | 'draining' = 'starting';
  private readonly closing = new AbortController();
  /**
   * Fires when the listeners close: a response that never ends on its own (an SSE stream) ends then,
   * and its client reconnects to another replica, which the balancer by now sends it to.
   */
  readonly listenersClosing: AbortSignal = this.closing.signal;

  ready(): void {
    if (this.state === 'starting') this.state = 'ready';
  }

  drain(): void {
    this.state = 'draining';
  }

  closeListeners(): void {
    this.closing.abort();
  }

  get draining(): boolean {
    return this.state === 'draining';
  }

  /** The probe: 200 when ready, 503 otherwise; answered without auth or a database round trip. */
  readonly probe: RequestHandler = (_req, res) => {
    res
      .status(this.state === 'ready' ? 200 : 503)
      .set('cache-control', 'no-store')
      .json({ status: this.state });
  };

  /** First middleware of each app: while draining, every response closes its connection. */
  readonly closeWhenDraining: RequestHandler = (_req, res, next) => {
    if (this.state === 'draining') res.set('connection', 'close');
    next();
  };
}
