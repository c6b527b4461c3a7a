import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { Webhook } from 'standardwebhooks';
import { exemptLoopbackFromGrpcProxy } from '../../src/outbound/grpc-proxy.ts';
import { accessToken, postInteraction, textMessage } from './api-client.ts';
import { LOCAL_ORG, type BridgeProcess } from './bridge-process.ts';

// The tests' own gRPC clients talk to bridges on loopback, as the bridge's subscriber does.
exemptLoopbackFromGrpcProxy(process.env);

/**
 * salesforce-pubsub-api-client's close() drops its listeners from its gRPC stream and closes the channel,
 * which leaves the stream open: when its server goes away later (a test's bridge disposed or killed), the
 * stream's error finds no listener and is an uncaught exception in whatever test runs then. In the tests'
 * processes such an error of a gRPC client stream, with nobody listening, is dropped. (The bridge's own
 * subscriber closes its client only once the stream is over.) grpc-js builds its service methods from
 * Client's prototype when it loads, so the stream's class is the one place to catch it.
 */
function dropUnheardStreamErrors() {
  const { ClientDuplexStreamImpl } = createRequire(import.meta.url)('@grpc/grpc-js/build/src/call.js') as {
    ClientDuplexStreamImpl: { prototype: NodeJS.EventEmitter };
  };
  const proto = ClientDuplexStreamImpl.prototype;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(stream)
  const emit = proto.emit;
  proto.emit = function (this: NodeJS.EventEmitter, event: string | symbol, ...args: unknown[]) {
    if (event === 'error' && this.listenerCount('error') === 0) return false;
    return emit.call(this, event, ...args);
  };
}
dropUnheardStreamErrors();

export const TOPIC = '/event/BYOC_Outbound_Event__e';
export const FIELDS = {
  channelAddressId: 'ChannelAddressIdentifier__c',
  payload: 'Payload__c',
  recipient: 'Recipient__c',
  eventType: 'EventType__c',
};

/** Polls until `check` returns a value other than undefined/false; fails after `timeoutMs` with `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function managementRequest(bridge: BridgeProcess, method: string, pathname: string, body?: unknown) {
  const res = await fetch(`${bridge.managementUrl}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${bridge.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A conversation of the given end user, created the way a partner does: an inbound message. */
export async function startConversation(bridge: BridgeProcess, endUser = LOCAL_ORG.endUser): Promise<string> {
  const res = await postInteraction(bridge, textMessage('hello, I need help', { from: endUser }), { token: await accessToken(bridge) });
  if (res.status !== 202) throw new Error(`inbound message refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.conversationIdentifier;
}

export async function sendAgentMessage(bridge: BridgeProcess, conversationIdentifier: string, body: Record<string, unknown>) {
  const res = await managementRequest(bridge, 'POST', `/api/conversations/${conversationIdentifier}/messages`, body);
  if (res.status !== 201) throw new Error(`agent message refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { entryId: string; eventId: string; replayId: number; shape: string };
}

/** The real salesforce-pubsub-api-client, connected to the bridge's Pub/Sub server with the dev certificate. */
export async function connectPubSubClient(
  bridge: Pick<BridgeProcess, 'baseUrl' | 'privateKeyPem' | 'pubSubPort'>,
): Promise<PubSubApiClient> {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const client = new PubSubApiClient(
    {
      authType: 'oauth-jwt-bearer',
      loginUrl: bridge.baseUrl,
      clientId: LOCAL_ORG.consumerKey,
      username: LOCAL_ORG.username,
      privateKey: bridge.privateKeyPem(),
      pubSubEndpoint: `localhost:${bridge.pubSubPort}`,
      rejectUnauthorizedSsl: false,
    },
    silent,
  );
  await client.connect();
  return client;
}

/** Field values for the client's publish(): Avro unions of the custom fields wrapped as avro-js wants them. */
export function eventRecord(fields: { channelAddressId?: string; payload?: string; recipient?: string; eventType?: string }) {
  const wrap = (v: string | undefined) => (v === undefined ? null : { string: v });
  return {
    CreatedDate: Date.now(),
    CreatedById: LOCAL_ORG.userId,
    [FIELDS.channelAddressId]: wrap(fields.channelAddressId),
    [FIELDS.payload]: wrap(fields.payload),
    [FIELDS.recipient]: wrap(fields.recipient),
    [FIELDS.eventType]: wrap(fields.eventType),
  };
}

/** Runs scripts/outbound-subscribe.ts against the bridge and returns the decoded events it printed. */
export function runSubscribeScript(
  bridge: BridgeProcess,
  args: string[],
): Promise<{ replayId: number; id: string; fields: Record<string, any> }[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/outbound-subscribe.ts', ...args], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...bridge.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`outbound-subscribe exited with ${code}: ${err}`));
      else
        resolve(
          out
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        );
    });
  });
}

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  json: any;
  status: number;
}

/**
 * A partner's webhook endpoint: answers with `respond(n)` (n counts requests per webhook-id from 1; a promise
 * holds the answer back until it settles) and records everything, in the order answered.
 */
export async function startWebhookReceiver(respond: (attempt: number, id: string, json: any) => number | Promise<number> = () => 200) {
  const received: ReceivedWebhook[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const json = JSON.parse(body);
      void Promise.resolve(respond(attempt, id, json)).then((status) => {
        received.push({
          id,
          timestamp: String(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
          body,
          json,
          status,
        });
        res.writeHead(status).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/byoc`;
  return {
    url,
    received,
    /** Requests answered 2xx, one per webhook-id. */
    delivered: () => [...new Map(received.filter((r) => r.status < 300).map((r) => [r.id, r])).values()],
    verify: (secret: string, r: ReceivedWebhook) =>
      new Webhook(secret).verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
