import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { customEventSchema } from '../src/local-org/pubsub/custom-event-schema.ts';
import { normalizeEvent } from '../src/outbound/normalizer.ts';

const root = path.resolve(import.meta.dirname, '..');
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));

test('schemas/outbound-custom-event.avsc is the Avro schema the Pub/Sub server publishes with default names', () => {
  const config = loadConfig({}, { readDotEnv: false });
  assert.deepEqual(read('schemas/outbound-custom-event.avsc'), customEventSchema(config.outbound.topicName, config.outbound.fields));
});

test('schemas/normalized-event.schema.json lists exactly the fields the normalizer produces', () => {
  const schema = read('schemas/normalized-event.schema.json');
  const fixtures = read('test/fixtures/outbound-events.json');
  for (const key of ['legacy_text', 'spring24_attachment', 'routing_requested']) {
    const event = normalizeEvent(fixtures[key], fixtures.fieldNames);
    assert.deepEqual(Object.keys(event).sort(), [...schema.required].sort(), key);
    assert.deepEqual(Object.keys(event.timestamps).sort(), [...schema.properties.timestamps.required].sort());
  }
});
