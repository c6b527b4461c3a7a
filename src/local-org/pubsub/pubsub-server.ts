import { randomUUID } from 'node:crypto';
import grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AccessTokens } from '../../auth/access-tokens.ts';
import type { CustomEventFields } from '../../contract/outbound-event.ts';
import type { OutboundEventLog, OutboundEvent, PublishedFields } from '../outbound-event-log.ts';
import type { CustomEventCodec } from './custom-event-schema.ts';
import { namesInstance } from './instance-url.ts';
import { decodeReplayId, encodeReplayId, loadPubSubService } from './pubsub-proto.ts';
import { PUBSUB_RPC_SCOPES, scopeAllows, type PubSubRpc } from './pubsub-scopes.ts';

const ReplayPreset = { LATEST: 0, EARLIEST: 1, CUSTOM: 2 } as const;
const PublishErrorCode = { PUBLISH: 1 } as const;
/** Upper bound of events in one FetchResponse, whatever is requested. */
const MAX_BATCH = 1000;

export interface PubSubServerDeps {
  logger: Logger;
  tokens: AccessTokens;
  log: OutboundEventLog;
  codec: CustomEventCodec;
  /** The instance URL the token endpoint hands out; the `instanceurl` metadata must name it. */
  instanceUrl: string;
  /** Who CreatedById names on events. */
  createdById: string;
  keepaliveMs: number;
  /**
   * How often an idle subscription looks at the log anyway: events appended in this process wake it as
   * soon as they commit; this finds those appended by another process sharing the database.
   */
  pollMs: number;
}

class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

/**
 * The local org's Pub/Sub API: `eventbus.v1.PubSub` over TLS, serving the outbound event log as the
 * custom platform event topic. Auth is the org's own access tokens, presented the way Salesforce
 * expects them: `accesstoken`, `instanceurl` and `tenantid` call metadata.
 */
/** proto-loader decodes messages into plain objects; each handler states the fields it reads. */
type Stream = grpc.ServerDuplexStream<unknown, unknown>;

export class PubSubServer {
  private readonly server = new grpc.Server();
  private readonly calls = new Set<Stream>();
  private shuttingDown = false;

  constructor(private readonly deps: PubSubServerDeps) {
    this.server.addService(loadPubSubService(), {
      GetTopic: this.unary('GetTopic', (req: Parameters<PubSubServer['getTopic']>[0], orgId) => this.getTopic(req, orgId)),
      GetSchema: this.unary('GetSchema', (req: Parameters<PubSubServer['getSchema']>[0]) => this.getSchema(req)),
      Publish: this.unary('Publish', (req: Parameters<PubSubServer['publish']>[0], orgId) => this.publish(req, orgId)),
      Subscribe: (call: Stream) => this.subscribe(call),
      PublishStream: (call: Stream) => this.publishStream(call),
      ManagedSubscribe: (call: Stream) =>
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'Managed subscriptions are not offered by the local org.' }),
    });
  }

  async listen(host: string, port: number, tls: { certPem: string; keyPem: string }): Promise<number> {
    const credentials = grpc.ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(tls.certPem), private_key: Buffer.from(tls.keyPem) }],
      false,
    );
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, credentials, (err, bound) => {
        if (err) {
          const e = Object.assign(new Error(err.message), {
            code: /address already in use/i.test(err.message) ? 'EADDRINUSE' : undefined,
            port,
          });
          reject(e);
        } else resolve(bound);
      });
    });
  }

  /**
   * Ends open streams with an OK status (an error status would reach clients whose listeners are
   * already gone, e.g. after salesforce-pubsub-api-client's close(), as an uncaught 'error'), then stops.
   */
  async close(): Promise<void> {
    this.shuttingDown = true;
    this.deps.log.appended.notify();
    for (const call of this.calls) call.end();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 3000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private async authenticate(metadata: grpc.Metadata, rpc: PubSubRpc): Promise<string> {
    return (await this.authenticateGrant(metadata, rpc)).orgId;
  }

  private async authenticateGrant(
    metadata: grpc.Metadata,
    rpc: PubSubRpc,
    refreshedToken?: string,
  ): Promise<{ orgId: string; expiresAt: number }> {
    const value = (key: string) => {
      const v = metadata.get(key)[0];
      return typeof v === 'string' ? v : v?.toString();
    };
    const token = refreshedToken || value('accesstoken');
    if (!token) throw new RpcError(grpc.status.UNAUTHENTICATED, 'The accesstoken metadata is missing.');
    const grant = await this.deps.tokens.resolve(token);
    if (!grant) throw new RpcError(grpc.status.UNAUTHENTICATED, 'The access token is unknown or expired.');
    if (!scopeAllows(grant.scope, rpc)) {
      throw new RpcError(
        grpc.status.PERMISSION_DENIED,
        `${rpc} needs an access token with one of the scopes ${PUBSUB_RPC_SCOPES[rpc].join(', ')}; this one has "${grant.scope}".`,
      );
    }
    if (value('tenantid') !== grant.orgId) {
      throw new RpcError(grpc.status.PERMISSION_DENIED, `The tenantid metadata must be the org id of the access token (${grant.orgId}).`);
    }
    if (!namesInstance(value('instanceurl'), this.deps.instanceUrl)) {
      throw new RpcError(
        grpc.status.PERMISSION_DENIED,
        `The instanceurl metadata must name this org: ${this.deps.instanceUrl} (http or https, with or without a trailing slash).`,
      );
    }
    return { orgId: grant.orgId, expiresAt: grant.expiresAt };
  }

  private checkTopic(topicName: string | undefined) {
    if (topicName !== this.deps.codec.topicName) {
      throw new RpcError(grpc.status.NOT_FOUND, `No topic "${topicName ?? ''}"; this org publishes ${this.deps.codec.topicName}.`);
    }
  }

  private unary<Req>(rpc: PubSubRpc, handler: (req: Req, orgId: string) => unknown) {
    const answer = async (call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      try {
        const orgId = await this.authenticate(call.metadata, rpc);
        callback(null, await handler(call.request, orgId));
      } catch (err) {
        callback(this.toStatus(err));
      }
    };
    // gRPC ignores what a handler returns: the answer goes through the callback, never a rejection.
    return (call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) => void answer(call, callback);
  }

  private toStatus(err: unknown): Partial<grpc.StatusObject> {
    if (err instanceof RpcError) return { code: err.code, details: err.details };
    this.deps.logger.error({ err }, 'pub/sub call failed');
    return { code: grpc.status.INTERNAL, details: 'An internal error occurred.' };
  }

  private getTopic(req: { topicName?: string }, orgId: string) {
    this.checkTopic(req.topicName);
    return {
      topicName: this.deps.codec.topicName,
      tenantGuid: orgId,
      canPublish: true,
      canSubscribe: true,
      schemaId: this.deps.codec.schemaId,
      rpcId: randomUUID(),
    };
  }

  private getSchema(req: { schemaId?: string }) {
    if (req.schemaId !== this.deps.codec.schemaId) throw new RpcError(grpc.status.NOT_FOUND, `No schema "${req.schemaId ?? ''}".`);
    return { schemaJson: this.deps.codec.schemaJson, schemaId: this.deps.codec.schemaId, rpcId: randomUUID() };
  }

  private async publish(req: { topicName?: string; events?: { id?: string; schemaId?: string; payload?: Buffer }[] }, orgId: string) {
    this.checkTopic(req.topicName);
    const results: { replayId?: Buffer; error?: { code: number; msg: string }; correlationKey: string }[] = [];
    const accepted: { result: (typeof results)[number]; record: PublishedFields }[] = [];
    for (const event of req.events ?? []) {
      const correlationKey = event.id || randomUUID();
      try {
        if (event.schemaId !== this.deps.codec.schemaId) throw new Error(`unknown schema id "${event.schemaId ?? ''}"`);
        const { fields } = this.deps.codec.decode(event.payload ?? Buffer.alloc(0));
        const result = { correlationKey };
        results.push(result);
        accepted.push({ result, record: { orgId, ...describePublished(fields), fields } });
      } catch (err) {
        results.push({
          error: { code: PublishErrorCode.PUBLISH, msg: `The event could not be published: ${(err as Error).message}` },
          correlationKey,
        });
      }
    }
    const appended = await this.deps.log.publish(accepted.map((a) => a.record));
    appended.forEach((e, i) => (accepted[i]!.result.replayId = encodeReplayId(e.replayId)));
    return { results, schemaId: this.deps.codec.schemaId, rpcId: randomUUID() };
  }

  private publishStream(call: Stream) {
    this.calls.add(call);
    let topic: string | undefined;
    let chain = Promise.resolve();
    call.on('data', (req: { topicName?: string }) => {
      chain = chain.then(async () => {
        if (call.destroyed) return;
        try {
          const orgId = await this.authenticate(call.metadata, 'PublishStream');
          if (req.topicName && topic && req.topicName !== topic) {
            throw new RpcError(grpc.status.INVALID_ARGUMENT, 'The topic of a publish stream cannot change.');
          }
          topic ??= req.topicName;
          call.write(await this.publish({ ...req, topicName: req.topicName || topic }, orgId));
        } catch (err) {
          call.emit('error', this.toStatus(err));
        }
      });
    });
    call.on('end', () => void chain.then(() => call.end()));
    call.on('close', () => this.calls.delete(call));
    call.on('error', () => this.calls.delete(call));
  }

  /**
   * Pull-based: events go out only against `num_requested` credit, oldest first after the replay
   * start, all that is available (up to the credit) in one FetchResponse. Every response carries an
   * 8-byte `latest_replay_id`; an idle stream gets an empty one every keepalive interval.
   */
  private subscribe(call: Stream) {
    if (this.shuttingDown) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'The server is shutting down.' });
      return;
    }
    this.calls.add(call);
    let started: Promise<{ cursor: number; expiresAt: number } | undefined> | undefined;
    let pending = 0;
    let closed = false;
    const finish = () => {
      closed = true;
      this.calls.delete(call);
      this.deps.log.appended.notify();
    };
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('error', finish);
    call.on('end', () => {
      finish();
      call.end();
    });
    const fail = (err: unknown) => {
      if (closed) return;
      call.emit('error', this.toStatus(err));
      finish();
    };

    call.on(
      'data',
      (req: { topicName?: string; replayPreset?: number; replayId?: Buffer; numRequested?: number; authRefresh?: string }) => {
        const first = !started;
        if (!started) {
          started = this.startSubscription(call, req).catch((err: unknown) => {
            fail(err);
            return undefined;
          });
          void started.then(
            (state) =>
              state &&
              this.pump(
                call,
                state,
                () => pending,
                (n) => (pending -= n),
                () => closed || this.shuttingDown,
              ).catch(fail),
          );
        } else if (req.authRefresh) {
          void started.then(async (state) => {
            if (!state) return;
            try {
              state.expiresAt = (await this.authenticateGrant(call.metadata, 'Subscribe', req.authRefresh)).expiresAt;
            } catch (err) {
              fail(err);
            }
          });
        }
        if (!first && req.topicName && req.topicName !== this.deps.codec.topicName) {
          fail(new RpcError(grpc.status.INVALID_ARGUMENT, 'The topic of a subscription cannot change; start a new Subscribe call.'));
          return;
        }
        const requested = req.numRequested ?? 0;
        if (requested < 0) {
          fail(new RpcError(grpc.status.INVALID_ARGUMENT, 'num_requested must not be negative.'));
          return;
        }
        pending += requested;
        this.deps.log.appended.notify();
      },
    );
  }

  private async startSubscription(
    call: Stream,
    req: { topicName?: string; replayPreset?: number; replayId?: Buffer },
  ): Promise<{ cursor: number; expiresAt: number }> {
    const { expiresAt } = await this.authenticateGrant(call.metadata, 'Subscribe');
    this.checkTopic(req.topicName);
    const preset = req.replayPreset ?? ReplayPreset.LATEST;
    let cursor: number;
    if (preset === ReplayPreset.EARLIEST) cursor = 0;
    else if (preset === ReplayPreset.CUSTOM) {
      try {
        cursor = decodeReplayId(req.replayId ?? Buffer.alloc(0));
      } catch (err) {
        throw new RpcError(grpc.status.INVALID_ARGUMENT, `replay_id: ${(err as Error).message}.`);
      }
    } else if (preset === ReplayPreset.LATEST) cursor = await this.deps.log.subscriptionStart();
    else throw new RpcError(grpc.status.INVALID_ARGUMENT, `Unknown replay_preset ${preset}.`);
    this.deps.logger.debug({ preset, cursor }, 'pub/sub subscription started');
    return { cursor, expiresAt };
  }

  private async pump(
    call: Stream,
    state: { cursor: number; expiresAt: number },
    pending: () => number,
    consume: (n: number) => void,
    closed: () => boolean,
  ) {
    let lastSentAt = Date.now();
    while (!closed()) {
      // As Salesforce does, a stream lives no longer than its session unless auth_refresh renews it.
      if (Date.now() >= state.expiresAt)
        throw new RpcError(grpc.status.UNAUTHENTICATED, 'The access token expired; subscribe again with a new one.');
      const seen = this.deps.log.appended.version;
      const credit = pending();
      if (credit > 0) {
        const events = await this.deps.log.readAfter(state.cursor, Math.min(credit, MAX_BATCH));
        if (closed()) return;
        if (events.length > 0) {
          state.cursor = events.at(-1)!.replayId;
          consume(events.length);
          call.write({
            events: events.map((e) => this.toConsumerEvent(e)),
            latestReplayId: encodeReplayId(state.cursor),
            rpcId: randomUUID(),
            pendingNumRequested: pending(),
          });
          lastSentAt = Date.now();
          continue;
        }
      }
      const idleFor = Date.now() - lastSentAt;
      if (idleFor >= this.deps.keepaliveMs) {
        call.write({ events: [], latestReplayId: encodeReplayId(state.cursor), rpcId: randomUUID(), pendingNumRequested: pending() });
        lastSentAt = Date.now();
        continue;
      }
      await this.deps.log.appended.wait(
        Math.max(1, Math.min(this.deps.pollMs, this.deps.keepaliveMs - idleFor, state.expiresAt - Date.now())),
        seen,
      );
    }
  }

  private toConsumerEvent(e: OutboundEvent) {
    return {
      event: {
        id: e.eventUuid,
        schemaId: this.deps.codec.schemaId,
        payload: this.deps.codec.encode(e.fields, { createdDate: e.createdAt, createdById: this.deps.createdById }),
      },
      replayId: encodeReplayId(e.replayId),
    };
  }
}

/** What the log records beside the fields of a published event: read from the fields, as a subscriber would. */
function describePublished(fields: CustomEventFields) {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(fields.payload);
    if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
  } catch {
    /* a malformed payload is published as it is; the subscriber parks it */
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    eventType: fields.eventType ?? 'Interaction',
    shape: fields.channelAddressId !== null && fields.eventType === null ? ('legacy' as const) : ('spring24' as const),
    channelAddressIdentifier: fields.channelAddressId ?? str(parsed.channelAddressIdentifier) ?? '',
    conversationIdentifier: str(parsed.conversationIdentifier) ?? str(innerPayload(parsed)?.conversationIdentifier),
  };
}

const innerPayload = (parsed: Record<string, unknown>) =>
  parsed.payload && typeof parsed.payload === 'object' ? (parsed.payload as Record<string, unknown>) : undefined;
