import PubSubApiClient from 'salesforce-pubsub-api-client';
import type { Logger } from 'pino';
import type { CustomEventFieldNames, NormalizedEvent } from '../contract/outbound-event.ts';
import { MalformedEventError, normalizeEvent } from './normalizer.ts';
import type { ReceivedEvents, ReceivedItem } from './received-events.ts';

/** Events requested per FetchRequest: the client's own maximum. */
const BATCH = 100;
const BACKOFF_MS = { initial: 500, max: 30_000 };
const HEALTHY_CONNECTION_MS = 60_000;

export interface SubscriberOptions {
  logger: Logger;
  received: ReceivedEvents;
  /** salesforce-pubsub-api-client configuration (auth type, login URL, key, endpoint, TLS). */
  clientConfig: Record<string, unknown>;
  topicName: string;
  fieldNames: CustomEventFieldNames;
  /** Where a subscriber with no checkpoint yet starts. */
  startFrom: 'earliest' | 'latest';
  onStored: (event: NormalizedEvent) => void;
}

/**
 * Subscribes to the custom platform event with salesforce-pubsub-api-client and stores every event
 * (normalized, or parked when malformed) before asking for more. The client has no reconnect, token
 * refresh or checkpoint: each connection is a fresh client that authenticates again and resumes after
 * the last checkpointed replay id; a stream error or end reconnects with exponential backoff.
 */
export class OutboundSubscriber {
  private stopped = false;
  private wakeFromBackoff: (() => void) | undefined;
  private endCurrent: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly clientLogger;

  constructor(private readonly o: SubscriberOptions) {
    const log = o.logger;
    // The client logs every batch at info; keep that at debug so the bridge's own log stays readable.
    this.clientLogger = {
      debug: (...a: unknown[]) => log.trace({ client: a.map(String).join(' ') }, 'pubsub client'),
      info: (...a: unknown[]) => log.debug({ client: a.map(String).join(' ') }, 'pubsub client'),
      warn: (...a: unknown[]) => log.warn({ client: a.map(String).join(' ') }, 'pubsub client'),
      error: (...a: unknown[]) => log.debug({ client: a.map(String).join(' ') }, 'pubsub client error'),
    };
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeFromBackoff?.();
    this.endCurrent?.();
    await this.loop;
  }

  private async run() {
    let failures = 0;
    while (!this.stopped) {
      const connection = { stored: 0, startedAt: Date.now() };
      try {
        await this.connectOnce(connection);
        if (this.stopRequested()) break;
        this.o.logger.info({ topic: this.o.topicName }, 'pub/sub subscription ended; reconnecting');
      } catch (err) {
        if (this.stopRequested()) break;
        this.o.logger.warn({ err: (err as Error).cause ?? err, topic: this.o.topicName }, 'pub/sub subscription failed; reconnecting');
      }
      // A connection that delivered events or lived a while was healthy: start the backoff over.
      failures = connection.stored > 0 || Date.now() - connection.startedAt > HEALTHY_CONNECTION_MS ? 1 : failures + 1;
      const delay = Math.min(BACKOFF_MS.max, BACKOFF_MS.initial * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeFromBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Read through a call: stop() flips the flag while the loop awaits, which narrowing cannot see. */
  private stopRequested(): boolean {
    return this.stopped;
  }

  /** One client, one subscription; resolves when the stream is over, counting stored events in `connection`. */
  private async connectOnce(connection: { stored: number }): Promise<void> {
    const client = new PubSubApiClient({ ...this.o.clientConfig } as unknown as ClientConfiguration, this.clientLogger);
    // close() drops the client's listeners on its gRPC stream; an error the stream reports afterwards
    // (e.g. "channel closed before call started") would then be an uncaught exception. So the client is
    // closed only once its stream is over, or when it never subscribed.
    let subscribed = false;
    let streamOver = false;
    let closeWanted = false;
    const closeWhenStreamOver = () => {
      if (!subscribed || streamOver) client.close();
      else closeWanted = true;
    };
    try {
      await client.connect();
      if (this.stopped) return;
      const checkpoint = await this.o.received.checkpoint(this.o.topicName);
      await new Promise<void>((resolve, reject) => {
        const queue: Received[] = [];
        let draining: Promise<void> | undefined;
        let over = false;
        // Read through a call: finish() flips it while drain() awaits a commit.
        const isOver = () => over;
        const finish = (err?: unknown) => {
          if (over) return;
          over = true;
          // A transaction under way completes first; what was not stored yet is received again after the checkpoint.
          const failure =
            err === undefined ? undefined : err instanceof Error ? err : Object.assign(new Error('subscription failed'), { cause: err });
          void (draining ?? Promise.resolve()).then(() => (failure ? reject(failure) : resolve()), reject);
        };
        this.endCurrent = () => finish();
        // Everything queued while a transaction commits goes into the next one: one fsync per run of events.
        const drain = async () => {
          while (queue.length > 0 && !over) {
            const run = queue.splice(0);
            const items = run.flatMap((q) => (q.kind === 'more' ? [] : [this.toItem(q)]));
            const stored = await this.o.received.storeBatch(this.o.topicName, items);
            connection.stored += items.length;
            for (const event of stored) this.o.onStored(event);
            // A batch that came in while another waited to be stored asks for the next once it is stored.
            if (run.some((q) => q.kind === 'more' && !q.requested) && !isOver()) client.requestAdditionalEvents(this.o.topicName, BATCH);
          }
        };
        const kick = () => {
          if (draining || over) return;
          draining = drain()
            .catch((err: unknown) => finish(err))
            .finally(() => {
              draining = undefined;
              if (queue.length > 0) kick();
            });
        };
        const enqueue = (item: Received) => {
          queue.push(item);
          kick();
        };
        // The client is plain JavaScript: `data` is whatever the callback type says it is.
        const callback = (_info: unknown, type: string, data: unknown) => {
          const parseError = type === 'error' && typeof data === 'object' && data !== null && 'latestReplayId' in data && 'event' in data;
          if (type === 'end' || type === 'grpcStatus' || (type === 'error' && !parseError)) {
            streamOver = true;
            if (closeWanted) client.close();
          }
          if (type === 'event') enqueue({ kind: 'event', parsed: data as ClientEvent });
          else if (type === 'lastEvent') {
            // The next batch is asked for as this one is complete, so that it arrives while this one is
            // stored; unless an earlier batch still waits for its transaction: then once that is stored, so
            // memory holds a few batches at most. What is not stored yet is received again after a restart
            // (the checkpoint moves with the stored events).
            const requested = !over && !queue.some((q) => q.kind === 'more');
            if (requested) {
              // Thrown here, it would reject the client's own stream handler, which nothing awaits.
              try {
                client.requestAdditionalEvents(this.o.topicName, BATCH);
              } catch (err) {
                finish(err);
                return;
              }
            }
            enqueue({ kind: 'more', requested });
          } else if (type === 'error') {
            if (parseError) enqueue({ kind: 'undecodable', error: data as unknown as UndecodableEvent });
            else finish(data);
          } else if (type === 'end') finish();
          else if (type === 'grpcStatus') {
            const status = data as { code?: number; details?: string } | undefined;
            if (status?.code !== 0) finish(Object.assign(new Error(status?.details ?? 'stream closed'), { code: status?.code }));
          }
        };
        // The first request is for one event: the client fetches the schema when it decodes its first
        // event, and FetchResponses arriving during that fetch are decoded out of order. Once the schema
        // is cached, responses are handled in arrival order and full batches are safe.
        subscribed = true;
        if (checkpoint !== undefined) client.subscribeFromReplayId(this.o.topicName, callback, 1, checkpoint);
        else if (this.o.startFrom === 'earliest') client.subscribeFromEarliestEvent(this.o.topicName, callback, 1);
        else client.subscribe(this.o.topicName, callback, 1);
        this.o.logger.info({ topic: this.o.topicName, after: checkpoint ?? this.o.startFrom }, 'subscribed to the outbound topic');
      });
    } finally {
      closeWhenStreamOver();
    }
  }

  /** A normalized event, or the reason it is parked. */
  private toItem(q: Exclude<Received, { kind: 'more' }>): ReceivedItem {
    if (q.kind === 'undecodable') {
      const err = q.error;
      if (err.replayId === undefined) throw new Error(`an undecodable event without a replay id: ${err.message}`);
      const reason = `${err.message}: ${err.cause?.message ?? 'decoding failed'}`;
      this.o.logger.warn({ replayId: err.replayId, reason }, 'outbound event parked: undecodable');
      const payload = err.event?.event?.payload;
      return {
        kind: 'parked',
        replayId: err.replayId,
        eventId: err.event?.event?.id ?? null,
        reason,
        raw: { payloadBase64: Buffer.isBuffer(payload) ? payload.toString('base64') : null, schemaId: err.event?.event?.schemaId ?? null },
      };
    }
    const parsed = q.parsed;
    try {
      const event = normalizeEvent(
        { eventId: parsed.id, replayId: parsed.replayId, topicName: this.o.topicName, fields: parsed.payload },
        this.o.fieldNames,
      );
      return { kind: 'event', event };
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      this.o.logger.warn({ replayId: parsed.replayId, reason: err.message }, 'outbound event parked: malformed');
      return { kind: 'parked', replayId: parsed.replayId, eventId: parsed.id, reason: err.message, raw: parsed.payload };
    }
  }
}

type ClientConfiguration = ConstructorParameters<typeof PubSubApiClient>[0];

/** What the client hands over, in arrival order. */
type Received =
  | { kind: 'event'; parsed: ClientEvent }
  | { kind: 'undecodable'; error: UndecodableEvent }
  /** The end of a requested batch; `requested`: the next one was asked for then. */
  | { kind: 'more'; requested: boolean };

/** An event the client decoded. */
interface ClientEvent {
  id: string;
  replayId: number;
  payload: Record<string, unknown>;
}

/** The client's report of an event it could not decode, with the raw event it received. */
interface UndecodableEvent {
  message: string;
  cause?: Error;
  replayId?: number;
  event?: { event?: { id?: string; schemaId?: string; payload?: unknown } };
}
