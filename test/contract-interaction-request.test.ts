import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseInteractionJsonPart, validateInteractionRequest } from '../src/contract/interaction-request.ts';
import { entryRequest, textMessage } from './helpers/api-client.ts';
import { LOCAL_ORG } from './helpers/bridge-process.ts';
import { refusalOf } from './helpers/refusal.ts';

// The body refusals of POST /api/v1/interactions, as unit tests of the contract module: no server needed.
// test/interactions.test.ts keeps a few of them end to end, through HTTP and the multipart parser.

const message = (abstractMessage: Record<string, unknown>) => {
  const id = randomUUID();
  return entryRequest({ id, entryType: 'Message', abstractMessage: { id, ...abstractMessage } });
};
const deliveryFailed = (recipient: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  entryRequest({ entryType: 'MessageDeliveryFailed', recipient, errorCode: 'Undeliverable', ...extra });
const endUser = { appType: 'custom', subject: LOCAL_ORG.endUser, role: 'EndUser' };

describe('interaction request validation', () => {
  const textEntry = (text: unknown) => message({ messageType: 'StaticContentMessage', staticContent: { formatType: 'Text', text } });
  const bodyRefusals: Array<[string, () => unknown, number]> = [
    ['no "to"', () => ({ ...textMessage('x'), to: undefined }), 10027],
    ['a "to" over 240 characters', () => textMessage('x', { to: 'c'.repeat(241) }), 10027],
    ['no "from"', () => ({ ...textMessage('x'), from: undefined }), 10028],
    ['a numeric "from"', () => ({ ...textMessage('x'), from: 42 }), 10028],
    ['no interactions', () => ({ ...textMessage('x'), interactions: [] }), 10029],
    [
      'an unknown interactionType',
      () => ({ ...textMessage('x'), interactions: [{ timestamp: 1, interactionType: 'Nope', payload: {} }] }),
      10029,
    ],
    [
      'an interaction without timestamp',
      () => ({ ...textMessage('x'), interactions: [{ interactionType: 'EntryInteraction', payload: {} }] }),
      10029,
    ],
    [
      'two EntryInteractions',
      () => ({ ...textMessage('x'), interactions: [...textMessage('a').interactions, ...textMessage('b').interactions] }),
      10029,
    ],
    ['an unknown entryType', () => entryRequest({ entryType: 'Teleport' }), 10045],
    ['a Message without abstractMessage', () => entryRequest({ entryType: 'Message' }), 10045],
    ['an unknown messageType', () => message({ messageType: 'HologramMessage' }), 10047],
    ['an agent-only messageType', () => message({ messageType: 'ChoicesMessage', choices: { formatType: 'Buttons' } }), 10062],
    ['an unknown formatType', () => message({ messageType: 'StaticContentMessage', staticContent: { formatType: 'Smell' } }), 10048],
    [
      'a formatType that does not go with the messageType',
      () => message({ messageType: 'StaticContentMessage', staticContent: { formatType: 'Buttons' } }),
      10049,
    ],
    ['a Text message without text', () => textEntry(undefined), 10045],
    ['a Text message with a numeric text', () => textEntry(7), 10045],
    [
      'a Message without payload id',
      () => ({
        ...textMessage('x'),
        interactions: [{ ...textMessage('x').interactions[0], payload: { ...textMessage('x').interactions[0]!.payload, id: '' } }],
      }),
      10059,
    ],
    [
      'payload and message ids that differ',
      () => {
        const body = textMessage('x');
        (body.interactions[0]!.payload as any).abstractMessage.id = randomUUID();
        return body;
      },
      10060,
    ],
    ['a typing indicator without timestamp', () => entryRequest({ entryType: 'TypingStartedIndicator' }), 10045],
    ['MessageDeliveryFailed to an agent app', () => deliveryFailed({ ...endUser, appType: 'agent' }), 10037],
    ['MessageDeliveryFailed to a non end-user role', () => deliveryFailed({ ...endUser, role: 'Agent' }), 10038],
    ['MessageDeliveryFailed without recipient subject', () => deliveryFailed({ appType: 'custom', role: 'EndUser' }), 10036],
    ['MessageDeliveryFailed without errorCode', () => deliveryFailed(endUser, { errorCode: undefined }), 10045],
    ['routingAttributes that are not strings', () => textMessage('x', { extra: { routingAttributes: { Language: 3 } } }), 10089],
  ];
  for (const [name, makeBody, code] of bodyRefusals) {
    test(`refuses ${name} with 400 ${code}`, () => {
      assert.deepEqual(
        refusalOf(() => validateInteractionRequest(makeBody())),
        { status: 400, code },
      );
    });
  }

  test('accepts a text message and keeps its entry as sent', () => {
    const body = textMessage('hello');
    const request = validateInteractionRequest(body);
    assert.equal(request.interactions.length, 1);
    assert.deepEqual(request.interactions[0], {
      interactionType: 'EntryInteraction',
      timestamp: body.interactions[0]!.timestamp,
      entryType: 'Message',
      entryId: body.interactions[0]!.payload.id,
      payload: body.interactions[0]!.payload,
    });
  });

  test('ignores unknown properties', () => {
    assert.equal(validateInteractionRequest(textMessage('x', { extra: { somethingNew: true } })).to, LOCAL_ORG.channel);
  });

  test('refuses a json part that is not JSON with 400 10100', () => {
    assert.deepEqual(
      refusalOf(() => parseInteractionJsonPart('{"to": ')),
      { status: 400, code: 10100 },
    );
  });

  test('refuses an empty json part with 400 10100', () => {
    assert.deepEqual(
      refusalOf(() => parseInteractionJsonPart('')),
      { status: 400, code: 10100 },
    );
  });
});
