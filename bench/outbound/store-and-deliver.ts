// The bridge's own part of the outbound path in one process, without Pub/Sub and without restarts:
// batches of 100 normalized events stored as the subscriber stores them (SQLite, the store's runner),
// delivered by WebhookDelivery to a receiver in a child process. Prints the process CPU per event and the
// rate for each round of 3000 events; the first rounds include the JIT warming up.
//
//   npx tsx bench/outbound/store-and-deliver.ts      # CONVERSATIONS=20 DEPTH=32 ROUNDS=5
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { openStore } from '../../src/store/database.ts';
import { ReceivedEvents } from '../../src/outbound/received-events.ts';
import { normalizeEvent } from '../../src/outbound/normalizer.ts';
import { WebhookDelivery } from '../../src/outbound/webhook-delivery.ts';
import { Wakeup } from '../../src/util/wakeup.ts';

const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const EVENTS = 3000;
const fixtures = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../test/fixtures/outbound-events.json'), 'utf8'));
const names = fixtures.fieldNames;
const base = fixtures.spring24_text;
const payload = JSON.parse(base.fields[names.payload]);

const receiver = spawn(
  process.execPath,
  [
    '-e',
    `require('http').createServer({ keepAliveTimeout: 60000 }, (q, s) => { q.resume(); q.on('end', () => s.writeHead(200).end()); })
      .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise<number>((resolve) => receiver.stdout.once('data', (d) => resolve(Number(String(d)))));
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-store-and-deliver-'));
const store = await openStore({ dataDir });
await store.db
  .insertInto('webhook_endpoints')
  .values({
    endpoint_id: 'wh_bench',
    url: `http://127.0.0.1:${port}/hooks`,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    event_types: null,
    channel_address_identifier: null,
    description: null,
    created_at: 0,
  })
  .execute();
const received = new ReceivedEvents(store.db, store.runTransaction);
const wakeup = new Wakeup();
let delivered = 0;
const delivery = new WebhookDelivery({
  db: store.db,
  runTransaction: store.runTransaction,
  logger: pino({ level: 'warn' }),
  wakeup,
  policy: { retryScheduleSeconds: [5], timeoutMs: 10_000, concurrency: 16, pipelineDepth: Number(process.env.DEPTH ?? 32) },
  onAttempt: () => delivered++,
});
delivery.start();
let replayId = 1;
try {
  for (let round = 0; round < ROUNDS; round++) {
    const items = Array.from({ length: EVENTS }, (_, i) => {
      const fields = {
        ...base.fields,
        [names.payload]: JSON.stringify({ ...payload, recipient: { ...payload.recipient, subject: `u${i % CONVERSATIONS}` } }),
      };
      return { kind: 'event' as const, event: normalizeEvent({ ...base, eventId: randomUUID(), replayId: replayId++, fields }, names) };
    });
    const from = delivered;
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < EVENTS; i += 100) {
      await received.storeBatch('/event/Bench__e', items.slice(i, i + 100));
      wakeup.notify();
    }
    while (delivered < from + EVENTS) await new Promise((r) => setTimeout(r, 5));
    const used = process.cpuUsage(cpu);
    console.log(
      `${CONVERSATIONS} conversations: ${((used.user + used.system) / EVENTS).toFixed(0)} µs CPU per event stored and delivered, ${((EVENTS / (performance.now() - started)) * 1000).toFixed(0)} events/s`,
    );
  }
} finally {
  await delivery.stop();
  await store.close();
  receiver.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
