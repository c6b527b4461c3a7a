// Subscribes to the running local org's outbound topic with the real salesforce-pubsub-api-client
// (OAuth JWT bearer with the dev certificate, as the bridge's own subscriber does) and prints each
// decoded event as one JSON line:  npm run -s outbound-subscribe -- [--from earliest|latest|<replayId>] [--count N]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { loadConfig } from '../src/config.ts';

const { values } = parseArgs({ options: { from: { type: 'string', default: 'latest' }, count: { type: 'string' } } });
const config = loadConfig();
const count = values.count ? Number(values.count) : null;
const topic = config.outbound.topicName;
const quiet = { debug() {}, info() {}, warn: (...a: unknown[]) => console.error(...a), error: (...a: unknown[]) => console.error(...a) };

const client = new PubSubApiClient(
  {
    authType: 'oauth-jwt-bearer',
    loginUrl: config.publicBaseUrl,
    clientId: config.localOrg.consumerKey,
    username: config.localOrg.username,
    privateKey: fs.readFileSync(path.join(config.certsDir, 'server.key'), 'utf8'),
    pubSubEndpoint: `localhost:${config.outbound.pubSubPort}`,
    rejectUnauthorizedSsl: false,
  },
  quiet,
);
await client.connect();
// The client is plain JavaScript: `data` is an event for 'event' and an error or gRPC status for 'error'.
const callback = (_info: unknown, type: string, data: unknown) => {
  if (type === 'event') {
    const event = data as SubscribedEvent;
    console.log(JSON.stringify({ replayId: event.replayId, id: event.id, fields: event.payload }));
  } else if (type === 'lastEvent' || type === 'end') {
    client.close();
    process.exit(0);
  } else if (type === 'error') {
    console.error(describeError(data));
    process.exit(1);
  }
};

/** An event as the client decodes it. */
interface SubscribedEvent {
  replayId: number;
  id: string;
  payload: Record<string, unknown>;
}

/** A gRPC status carries `details`, an Error `message`; anything else prints as itself. */
function describeError(data: unknown): string {
  if (typeof data === 'object' && data !== null) {
    if ('details' in data && typeof data.details === 'string') return data.details;
    if ('message' in data && typeof data.message === 'string') return data.message;
  }
  return String(data);
}

if (values.from === 'earliest') client.subscribeFromEarliestEvent(topic, callback, count);
else if (/^\d+$/.test(values.from)) client.subscribeFromReplayId(topic, callback, count, Number(values.from));
else client.subscribe(topic, callback, count);
console.error(`subscribed to ${topic}`);
