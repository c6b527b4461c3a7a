import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { noReferenceReason, referenceYamlPath } from './helpers/interaction-event-schema.ts';
import { MalformedEventError, normalizeEvent, orderingKeyOf, type ReceivedEvent } from '../src/outbound/normalizer.ts';

const fixtures = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures/outbound-events.json'), 'utf8'));
const names = fixtures.fieldNames;
const CHANNEL = '3d5c2a10-8f4e-4c61-a0b7-2e9d14c6f8a3';
const CONVERSATION = 'c4a7e2d9-51b0-4f3e-8a26-7d0b9e13f5c8';
const normalize = (key: string) => normalizeEvent(fixtures[key] as ReceivedEvent, names);
/** What must be equal between the two shapes of one message: everything but the event's own identity. */
const sameMessage = (e: ReturnType<typeof normalize>) => {
  const { eventId: _i, replayId: _r, shape: _s, conversationIdentifier: _c, ...rest } = e;
  return rest;
};

describe('outbound normalizer', () => {
  test('a legacy text event', () => {
    const e = normalize('legacy_text');
    assert.equal(e.shape, 'legacy');
    assert.equal(e.eventType, 'Interaction');
    assert.equal(e.entryType, 'Message');
    assert.equal(e.entryId, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
    assert.equal(e.channelAddressIdentifier, CHANNEL);
    assert.equal(e.conversationIdentifier, null);
    assert.deepEqual(e.recipient, { appType: 'custom', subject: 'Ada Example', role: 'EndUser' });
    assert.deepEqual(e.sender, { appType: 'agent', subject: '005000000000AAA', role: 'Agent' });
    assert.equal(e.senderDisplayName, 'Grace Agent');
    assert.equal((e.payload as any).abstractMessage.staticContent.text, 'Your order has shipped.');
    assert.deepEqual(e.timestamps, { createdDate: 1700000200000, transcriptedTimestamp: 1700000000090, clientTimestamp: 1700000000000 });
    assert.equal(e.replayId, 101);
    assert.equal(e.eventId, 'evt-101');
  });

  test('the same agent reply normalizes identically from legacy, spring24 (nested) and spring24-flat', () => {
    const legacy = normalize('legacy_text');
    const nested = normalize('spring24_text');
    const flat = normalize('spring24_flat_text');
    assert.deepEqual([legacy.shape, nested.shape, flat.shape], ['legacy', 'spring24', 'spring24-flat']);
    // Both Spring '24 variants carry the conversation in the envelope; the legacy shape has no place for it.
    assert.equal(nested.conversationIdentifier, CONVERSATION);
    assert.equal(flat.conversationIdentifier, CONVERSATION);
    const { eventId: _a, replayId: _b, shape: _c, ...nestedRest } = nested;
    const { eventId: _d, replayId: _e, shape: _f, ...flatRest } = flat;
    assert.deepEqual(nestedRest, flatRest);
    assert.deepEqual(sameMessage(nested), sameMessage(legacy));
    assert.equal((flat.payload as any).abstractMessage.staticContent.text, 'Your order has shipped.');
  });

  test('a RoutingWorkResult names its conversation in the entry when the envelope does not', () => {
    const base = fixtures.spring24_text as ReceivedEvent;
    const entry = {
      senderDisplayName: 'Grace Agent',
      identifier: 'w-1',
      entryType: 'RoutingWorkResult',
      entryPayload: { entryType: 'RoutingWorkResult', id: 'w-1', workType: 'Accepted', conversationIdentifier: CONVERSATION },
      sender: { appType: 'agent', subject: '005000000000AAA', role: 'Agent' },
    };
    const body = {
      channelAddressIdentifier: CHANNEL,
      recipient: { appType: 'custom', subject: 'Ada Example', role: 'EndUser' },
      payload: entry,
    };
    const e = normalizeEvent({ ...base, fields: { ...base.fields, [names.payload]: JSON.stringify(body) } }, names);
    assert.equal(e.entryType, 'RoutingWorkResult');
    assert.equal(e.conversationIdentifier, CONVERSATION);
  });

  test("attachment events of both shapes (Spring '24 nested under payload, with the conversation)", () => {
    const legacy = normalize('legacy_attachment');
    const spring = normalize('spring24_attachment');
    assert.equal(spring.conversationIdentifier, CONVERSATION);
    assert.equal(legacy.conversationIdentifier, null);
    const attachment = (legacy.payload as any).abstractMessage.staticContent.attachments[0];
    assert.equal(attachment.url, 'https://files.example.test/download/invoice-42.pdf?token=abc');
    assert.equal(attachment.mimeType, 'application/pdf');
    assert.deepEqual(sameMessage(spring), sameMessage(legacy));
  });

  test('a RoutingRequested event keeps its content as the payload', () => {
    const e = normalize('routing_requested');
    assert.equal(e.eventType, 'RoutingRequested');
    assert.equal(e.entryType, null);
    assert.equal(e.conversationIdentifier, CONVERSATION);
    assert.equal((e.payload as any).routingType, 'Transfer');
    assert.equal((e.payload as any).routingParameters.isTransfer, true);
    assert.equal(orderingKeyOf(e), orderingKeyOf(normalize('legacy_text')), 'one conversation, one delivery line');
  });

  test('malformed events are refused with a reason', () => {
    const base = fixtures.spring24_text as ReceivedEvent;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ [names.payload]: null }, /payload field .* missing/],
      [{ [names.payload]: '{not json' }, /not JSON/],
      [{ [names.payload]: '[1,2]' }, /not a JSON object/],
      [{ [names.payload]: JSON.stringify({ recipient: { subject: 'x' }, entryType: 'Message' }) }, /neither the channel address id field/],
      [
        {
          [names.payload]: JSON.stringify({ channelAddressIdentifier: CHANNEL, recipient: { subject: 'x' } }),
          [names.eventType]: 'Interaction',
        },
        /no entryType/,
      ],
      [
        {
          [names.payload]: JSON.stringify({
            channelAddressIdentifier: CHANNEL,
            recipient: 'nobody',
            entryType: 'Message',
            entryPayload: {},
          }),
        },
        /recipient is not a participant/,
      ],
    ];
    for (const [override, reason] of cases) {
      assert.throws(
        () => normalizeEvent({ ...base, fields: { ...base.fields, ...override } }, names),
        (err: Error) => err instanceof MalformedEventError && reason.test(err.message),
      );
    }
    const legacy = fixtures.legacy_text as ReceivedEvent;
    assert.throws(
      () => normalizeEvent({ ...legacy, fields: { ...legacy.fields, [names.recipient]: 'oops' } }, names),
      /recipient field .* not JSON/,
    );
  });

  // The five examples of Salesforce's README, when the reference folder is next to the project.
  const reference = referenceYamlPath && path.join(path.dirname(referenceYamlPath), 'outbound-examples.json');
  test('the reference examples normalize', { skip: !reference && noReferenceReason }, () => {
    if (!reference) return;
    const examples = JSON.parse(fs.readFileSync(reference, 'utf8'));
    const toEvent = (key: string) => {
      const ex = examples[key];
      const refNames = {
        channelAddressId: 'my__event__chnlAddrIdField__c',
        payload: ex.payloadField,
        recipient: 'my__event__recipientField__c',
        eventType: ex.typeField ?? 'my__event__EventType__c',
      };
      return normalizeEvent({ eventId: key, replayId: Number(ex.replayId), topicName: ex.topic, fields: ex.fields }, refNames);
    };
    const [lt, la, st, sa, rr] = ['legacy_text', 'legacy_attachment', 'spring24_text', 'spring24_attachment', 'routing_requested'].map(
      toEvent,
    );
    assert.deepEqual(
      [lt!.shape, la!.shape, st!.shape, sa!.shape, rr!.shape],
      ['legacy', 'legacy', 'spring24-flat', 'spring24', 'spring24'],
    );
    assert.deepEqual(sameMessage(lt!), sameMessage(st!));
    assert.deepEqual(sameMessage(la!), sameMessage(sa!));
    assert.equal(sa!.conversationIdentifier, '9bc16b48-cd9b-4d8b-b7f2-a376f0a05c09');
    assert.equal(lt!.recipient?.subject, 'David Wood');
    assert.equal(rr!.eventType, 'RoutingRequested');
    assert.equal(rr!.conversationIdentifier, '06f6c69b-bf42-4ec2-a6fa-9ae595218ea0');
  });
});
