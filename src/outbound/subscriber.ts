import PubSubApiClient from 'salesforce-pubsub-api-client';
import type { Logger } from 'pino';
import type { CustomEventFieldNames } from '../local-org/pubsub/custom-event-schema.ts';
import { MalformedEventError, normalizeEvent, type NormalizedEvent } from './normalizer.ts';
import type { ReceivedEvents } from './received-events.ts';

/** Events requested per FetchRequest: the client's own maximum. */
const BATCH = 100;
const BACKOFF_MS = { initial: 500, max: 30_000 };

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
  private client: PubSubApiClient | undefined;
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
      let received = 0;
      try {
        received = await this.connectOnce();
        this.o.logger.info({ topic: this.o.topicName }, 'pub/sub subscription ended; reconnecting');
      } catch (err) {
        if (this.stopped) break;
        this.o.logger.warn({ err: (err as Error).cause ?? err, topic: this.o.topicName }, 'pub/sub subscription failed; reconnecting');
      }
      failures = received > 0 ? 0 : failures + 1;
      const delay = Math.min(BACKOFF_MS.max, BACKOFF_MS.initial * 2 ** Math.max(0, failures - 1)) * (0.5 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeFromBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One client, one subscription; resolves (with the number of events stored) when the stream is over. */
  private async connectOnce(): Promise<number> {
    const client = new PubSubApiClient({ ...this.o.clientConfig } as any, this.clientLogger);
    this.client = client;
    try {
      await client.connect();
      if (this.stopped) return 0;
      const checkpoint = await this.o.received.checkpoint(this.o.topicName);
      return await new Promise<number>((resolve, reject) => {
        let chain = Promise.resolve();
        let count = 0;
        let over = false;
        const finish = (err?: unknown) => {
          if (over) return;
          over = true;
          // Let what was already received be stored, then report.
          void chain.then(() => (err ? reject(err) : resolve(count)), reject);
        };
        this.endCurrent = () => finish();
        const enqueue = (work: () => Promise<void>) => {
          chain = chain.then(async () => {
            if (over) return;
            try {
              await work();
            } catch (err) {
              finish(err);
            }
          });
        };
        const callback = (_info: unknown, type: string, data: any) => {
          if (type === 'event') {
            enqueue(async () => {
              await this.ingest(data);
              count++;
            });
          } else if (type === 'lastEvent') {
            enqueue(async () => client.requestAdditionalEvents(this.o.topicName, BATCH));
          } else if (type === 'error') {
            if (data && 'latestReplayId' in data && 'event' in data) enqueue(() => this.parkUndecodable(data));
            else finish(data);
          } else if (type === 'end') finish();
          else if (type === 'grpcStatus' && data?.code !== 0) finish(Object.assign(new Error(data?.details ?? 'stream closed'), { code: data?.code }));
        };
        // The first request is for one event: the client fetches the schema when it decodes its first
        // event, and FetchResponses arriving during that fetch are decoded out of order. Once the schema
        // is cached, responses are handled in arrival order and full batches are safe.
        if (checkpoint !== undefined) client.subscribeFromReplayId(this.o.topicName, callback, 1, checkpoint);
        else if (this.o.startFrom === 'earliest') client.subscribeFromEarliestEvent(this.o.topicName, callback, 1);
        else client.subscribe(this.o.topicName, callback, 1);
        this.o.logger.info({ topic: this.o.topicName, after: checkpoint ?? this.o.startFrom }, 'subscribed to the outbound topic');
      });
    } finally {
      client.close();
    }
  }

  private async ingest(parsed: { id: string; replayId: number; payload: Record<string, unknown> }) {
    const received = { eventId: parsed.id, replayId: parsed.replayId, topicName: this.o.topicName, fields: parsed.payload };
    let event: NormalizedEvent;
    try {
      event = normalizeEvent(received, this.o.fieldNames);
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      this.o.logger.warn({ replayId: parsed.replayId, reason: err.message }, 'outbound event parked: malformed');
      await this.o.received.park({ topicName: this.o.topicName, replayId: parsed.replayId, eventId: parsed.id, reason: err.message, raw: parsed.payload });
      return;
    }
    if (await this.o.received.store(event)) this.o.onStored(event);
  }

  /** An event the client could not decode (bad Avro, unknown schema): kept as bytes with the reason. */
  private async parkUndecodable(err: { message: string; cause?: Error; replayId?: number; event?: any }) {
    if (err.replayId === undefined) throw new Error(`an undecodable event without a replay id: ${err.message}`);
    const reason = `${err.message}: ${err.cause?.message ?? 'decoding failed'}`;
    this.o.logger.warn({ replayId: err.replayId, reason }, 'outbound event parked: undecodable');
    const payload = err.event?.event?.payload;
    await this.o.received.park({
      topicName: this.o.topicName,
      replayId: err.replayId,
      eventId: err.event?.event?.id ?? null,
      reason,
      raw: { payloadBase64: Buffer.isBuffer(payload) ? payload.toString('base64') : null, schemaId: err.event?.event?.schemaId ?? null },
    });
  }
}
