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
const callback = (_info: unknown, type: string, data: any) => {
  if (type === 'event') console.log(JSON.stringify({ replayId: data.replayId, id: data.id, fields: data.payload }));
  else if (type === 'lastEvent' || type === 'end') {
    client.close();
    process.exit(0);
  } else if (type === 'error') {
    console.error(String(data?.details ?? data?.message ?? data));
    process.exit(1);
  }
};
if (values.from === 'earliest') client.subscribeFromEarliestEvent(topic, callback, count);
else if (/^\d+$/.test(values.from)) client.subscribeFromReplayId(topic, callback, count, Number(values.from));
else client.subscribe(topic, callback, count);
console.error(`subscribed to ${topic}`);
