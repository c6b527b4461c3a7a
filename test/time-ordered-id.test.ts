import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeOrderedIds } from '../src/util/time-ordered-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const bytesOf = (id: string) => Buffer.from(id.replaceAll('-', ''), 'hex');
const millisOf = (id: string) => bytesOf(id).readUIntBE(0, 6);
const counterOf = (id: string) => bytesOf(id).readUInt16BE(6) & 0xfff;

test('an id is a UUIDv7: the millisecond timestamp first, version 7, variant 10, the rest random', () => {
  const at = Date.UTC(2026, 10, 30, 21, 0, 0, 123);
  const next = timeOrderedIds(() => at);
  const id = next();
  assert.match(id, UUID_V7);
  assert.equal(millisOf(id), at);
  assert.equal(id.slice(0, 13), `${at.toString(16).padStart(12, '0').slice(0, 8)}-${at.toString(16).padStart(12, '0').slice(8)}`);
  const bytes = bytesOf(id);
  assert.equal(bytes[6]! >> 4, 0x7);
  assert.equal(bytes[8]! >> 6, 0b10);
  // A counter seeded below half its range leaves room for the millisecond's further ids.
  assert.ok(counterOf(id) < 0x800);
  // Independent generators at the same millisecond do not collide: their random parts differ.
  const others = new Set(Array.from({ length: 1000 }, () => timeOrderedIds(() => at)()));
  assert.equal(others.size, 1000);
});

test('ids from one generator sort in the order they were made, as strings, within a millisecond and across a clock step back', () => {
  let now = 1_700_000_000_000;
  const next = timeOrderedIds(() => now);
  const ids: string[] = [];
  for (let i = 0; i < 5000; i++) ids.push(next()); // one millisecond
  now += 1;
  for (let i = 0; i < 10; i++) ids.push(next());
  now -= 5_000; // the clock is set back
  for (let i = 0; i < 10; i++) ids.push(next());
  assert.ok(ids.every((id) => UUID_V7.test(id)));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  // 5000 ids do not fit one millisecond's counter: the timestamp moved on rather than the order breaking.
  assert.ok(millisOf(ids[4999]!) > millisOf(ids[0]!));
  assert.ok(millisOf(ids.at(-1)!) >= millisOf(ids[5000]!));
});

test('a later millisecond sorts after everything made before it', () => {
  let now = 1_700_000_000_000;
  const next = timeOrderedIds(() => now);
  const first = next();
  now += 1;
  const second = next();
  assert.ok(first < second);
  assert.equal(millisOf(second), now);
});
