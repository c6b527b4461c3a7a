// The floor of any webhook delivery of one POST per event: the bare salesforce-pubsub-api-client decoding
// the org's events and POSTing each one, as it came, to the benchmark's receiver over kept-alive connections
// (undici, 16 like WEBHOOK_CONCURRENCY), one at a time per conversation as the bridge sends them. Nothing is
// normalized, stored, signed or recorded. A process of its own, as the bridge is.
//
//   node --import tsx bench/outbound/bare-forwarder.ts '<json: loginUrl, privateKeyPem, pubSubPort, afterReplayId, count, receiverUrl>'
//
// Prints one line of JSON once `count` events have been answered: the process CPU µs per event from the
// first event on.
import { Pool } from 'undici';
import { connectPubSubClient, FIELDS, TOPIC } from '../../test/helpers/outbound.ts';

const options = JSON.parse(process.argv[2]!) as {
  loginUrl: string;
  privateKeyPem: string;
  pubSubPort: number;
  afterReplayId: number;
  count: number;
  receiverUrl: string;
};
const receiver = new URL(options.receiverUrl);
const pool = new Pool(receiver.origin, { connections: 16 });
const client = await connectPubSubClient({
  baseUrl: options.loginUrl,
  privateKeyPem: () => options.privateKeyPem,
  pubSubPort: options.pubSubPort,
});

/** Each conversation's last POST: the next one of the conversation goes once it is answered. */
const lines = new Map<string, Promise<void>>();
let received = 0;
let answered = 0;
let cpuFrom: NodeJS.CpuUsage | undefined;

async function post(id: string, body: string) {
  const { statusCode, body: answer } = await pool.request({
    path: receiver.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id },
    body,
  });
  await answer.dump();
  if (statusCode >= 300) throw new Error(`receiver answered ${statusCode}`);
  if (++answered === options.count) {
    const cpu = process.cpuUsage(cpuFrom);
    process.stdout.write(`${JSON.stringify({ cpuPerEvent: (cpu.user + cpu.system) / options.count })}\n`);
    client.close();
    await pool.close();
  }
}

client.subscribeFromReplayId(
  TOPIC,
  (_info: unknown, type: string, event: any) => {
    // The first `count` events after the replay id: the ones the bridge and the bare client were timed on.
    if (type !== 'event' || ++received > options.count) return;
    cpuFrom ??= process.cpuUsage();
    const raw = JSON.parse(event.payload[FIELDS.payload]) as { recipient: { subject: string }; entryPayload: unknown };
    const body = JSON.stringify({
      type: 'Interaction',
      timestamp: new Date().toISOString(),
      data: { recipient: raw.recipient, payload: raw.entryPayload },
    });
    const key = raw.recipient.subject;
    const sent = (lines.get(key) ?? Promise.resolve()).then(() => post(event.id as string, body));
    lines.set(key, sent);
    sent.catch((err: unknown) => {
      process.stderr.write(`bare forwarder: ${String(err)}\n`);
      process.exit(1);
    });
  },
  null,
  options.afterReplayId,
);
