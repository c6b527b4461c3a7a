import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the upstream (bridge mode) reports; the Salesforce adapter sees only this, not prom-client. */
export interface UpstreamObserver {
  /** A failed attempt: `reason` is a small fixed set (timeout/unreachable, 5xx, 429, token, circuit_open). */
  error(reason: UpstreamErrorReason): void;
  circuit(state: CircuitState): void;
}
export type UpstreamErrorReason = 'unreachable' | 'status_5xx' | 'status_429' | 'token' | 'circuit_open';
export type CircuitState = 'closed' | 'half_open' | 'open';
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/** Figures read from the store when Prometheus scrapes, so every replica reports the shared state. */
export interface StoreFigures {
  deliveries: Record<string, number>;
  parkedEvents: number;
  /** Events the local org has published that the subscriber has not stored yet (null in bridge mode). */
  subscriberLagEvents: number | null;
  /** Seconds since the oldest still-pending delivery's event arrived (0 when none is pending). */
  oldestPendingDeliverySeconds: number;
}

/**
 * Every metric the bridge exports at `GET /metrics` (management port), in one registry per process.
 * Labels are fixed sets or route templates, never identifiers or message content, so the series stay
 * few and the page holds nothing private.
 */
export class BridgeMetrics {
  readonly registry = new Registry();
  private readonly requests;
  private readonly latency;
  private readonly s3Errors;
  private readonly storeErrors;
  private readonly deliveryAttempts;
  private readonly deadLetters;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'byoc_' });
    this.requests = new Counter({
      name: 'byoc_http_requests_total',
      help: 'HTTP requests answered, by server, operation (method and route template) and status code.',
      labelNames: ['server', 'operation', 'status'] as const,
      registers,
    });
    this.latency = new Histogram({
      name: 'byoc_http_request_duration_seconds',
      help: 'Time from a request arriving to its response being sent, by server and operation.',
      labelNames: ['server', 'operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.s3Errors = new Counter({
      name: 'byoc_s3_errors_total',
      help: 'Failed S3 requests for attachments, by S3 operation.',
      labelNames: ['operation'] as const,
      registers,
    });
    this.storeErrors = new Counter({
      name: 'byoc_store_errors_total',
      help: 'Database queries that failed (SQLite or PostgreSQL).',
      registers,
    });
    this.deliveryAttempts = new Counter({
      name: 'byoc_webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts made by this process, by outcome (succeeded, retry, dead).',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.deadLetters = new Counter({
      name: 'byoc_webhook_dead_letters_total',
      help: 'Webhook deliveries this process moved to the dead-letter state after their last attempt.',
      registers,
    });
  }

  /**
   * Gauges computed from the store at scrape time. The store is shared by replicas, so these are the
   * service's figures, not this process's: deliveries by state, parked events, outbound lag.
   */
  readFromStore(read: () => Promise<StoreFigures>): void {
    const registers = [this.registry];
    let pending: Promise<StoreFigures | undefined> | undefined;
    // One store read per scrape, shared by the gauges below. When the store does not answer, the gauges
    // keep their last values (the failed query is counted in byoc_store_errors_total) and the page is still served.
    const figures = () =>
      (pending ??= read()
        .catch(() => undefined)
        .finally(() => setTimeout(() => (pending = undefined), 0)));
    new Gauge({
      name: 'byoc_webhook_deliveries',
      help: 'Webhook deliveries in the store, by state (pending, succeeded, dead).',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const f = await figures();
        if (!f) return;
        for (const [state, count] of Object.entries(f.deliveries)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'byoc_outbound_parked_events',
      help: 'Outbound events parked as malformed (see GET /api/parked-events).',
      registers,
      async collect() {
        const f = await figures();
        if (f) this.set(f.parkedEvents);
      },
    });
    new Gauge({
      name: 'byoc_outbound_subscriber_lag_events',
      help: 'Local org: events published on the Pub/Sub topic that the subscriber has not stored yet.',
      registers,
      async collect() {
        const lag = (await figures())?.subscriberLagEvents;
        if (lag !== undefined && lag !== null) this.set(lag);
      },
    });
    new Gauge({
      name: 'byoc_outbound_delivery_lag_seconds',
      help: 'Age of the oldest event whose webhook delivery is still pending (0 when none is).',
      registers,
      async collect() {
        const f = await figures();
        if (f) this.set(f.oldestPendingDeliverySeconds);
      },
    });
  }

  /** Counts and times every request of an express app; mount it first. */
  httpMiddleware(server: string): RequestHandler {
    return (req, res, next) => {
      const end = this.latency.startTimer();
      res.on('finish', () => {
        const operation = operationOf(req.method, req.route as { path?: unknown } | undefined, res.locals.mountPath as string | undefined);
        end({ server, operation });
        this.requests.inc({ server, operation, status: String(res.statusCode) });
      });
      next();
    };
  }

  /** Bridge mode only: a local org has no upstream, so its page has no such series. */
  upstream(): UpstreamObserver {
    const registers = [this.registry];
    const errors = new Counter({
      name: 'byoc_upstream_errors_total',
      help: 'Bridge mode: failed attempts to call the Salesforce org, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    const circuit = new Gauge({
      name: 'byoc_upstream_circuit_state',
      help: 'Bridge mode: the circuit breaker in front of the org (0 closed, 1 half-open, 2 open).',
      registers,
    });
    circuit.set(CIRCUIT_VALUE.closed);
    return {
      error: (reason) => errors.inc({ reason }),
      circuit: (state) => circuit.set(CIRCUIT_VALUE[state]),
    };
  }

  s3Error(operation: string): void {
    this.s3Errors.inc({ operation });
  }

  storeError(): void {
    this.storeErrors.inc();
  }

  deliveryAttempt(outcome: 'succeeded' | 'retry' | 'dead'): void {
    this.deliveryAttempts.inc({ outcome });
    if (outcome === 'dead') this.deadLetters.inc();
  }
}

/**
 * The route template a request matched (`POST /api/v1/interactions`, `GET /api/conversations/:conversationIdentifier`),
 * or `unmatched` for requests refused before reaching one (authentication, unknown paths).
 */
export function operationOf(method: string, route: { path?: unknown } | undefined, mountPath: string | undefined): string {
  if (!route || typeof route.path !== 'string') return 'unmatched';
  return `${method} ${mountPath ?? ''}${route.path}`;
}

/**
 * Remembers where a router is mounted: express forgets `req.baseUrl` once a route's error leaves the router,
 * and the request counter needs the full template. Mount with the same path as the router.
 */
export const rememberMountPath: RequestHandler = (req, res, next) => {
  res.locals.mountPath = req.baseUrl;
  next();
};
