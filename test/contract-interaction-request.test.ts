import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkInteractionTimestamps, parseInteractionJsonPart, validateInteractionRequest } from '../src/contract/interaction-request.ts';
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

const DAY = 24 * 3_600_000;
const attachment = (extra: Record<string, unknown> = {}) => ({
  timestamp: Date.now(),
  interactionType: 'AttachmentInteraction',
  id: randomUUID(),
  attachmentIndex: 0,
  contentLength: 10,
  ...extra,
});
const withTimestamp = (timestamp: unknown) => {
  const body = textMessage('x');
  return { ...body, interactions: [{ ...body.interactions[0], timestamp }] };
};
const attachmentsEntry = (item: Record<string, unknown>) =>
  message({ messageType: 'StaticContentMessage', staticContent: { formatType: 'Attachments', attachments: [item] } });
const selections = (selectedOptions: unknown[]) =>
  message({ messageType: 'ChoicesResponseMessage', choicesResponse: { formatType: 'Selections', selectedOptions } });
const withReferences = (references: unknown[]) =>
  message({ messageType: 'StaticContentMessage', references, staticContent: { formatType: 'Text', text: 'x' } });
const formInputs = (inputValues: unknown[]) =>
  message({ messageType: 'FormResponseMessage', formResponse: { formatType: 'Inputs', inputValues } });
const formResult = (result: unknown) => message({ messageType: 'FormResponseMessage', formResponse: { formatType: 'Result', result } });
const links = (items: unknown[]) => message({ messageType: 'StaticContentMessage', staticContent: { formatType: 'Links', links: items } });
const record = { recordReferenceId: 'r1', isCreated: true };

describe('interaction request validation', () => {
  const textEntry = (text: unknown) => message({ messageType: 'StaticContentMessage', staticContent: { formatType: 'Text', text } });
  const bodyRefusals: Array<[string, () => unknown, number]> = [
    ['no "to"', () => ({ ...textMessage('x'), to: undefined }), 10027],
    ['a "to" over 240 characters', () => textMessage('x', { to: 'c'.repeat(241) }), 10027],
    ['no "from"', () => ({ ...textMessage('x'), from: undefined }), 10028],
    ['a numeric "from"', () => ({ ...textMessage('x'), from: 42 }), 10028],
    ['an empty interaction list', () => ({ ...textMessage('x'), interactions: [] }), 20003],
    ['interactions that are not a list', () => ({ ...textMessage('x'), interactions: {} }), 10029],
    [
      'two AttachmentInteractions (maxItems 1)',
      () => ({ ...textMessage('x'), interactions: [attachment(), attachment({ attachmentIndex: 1 })] }),
      10029,
    ],
    ['a timestamp that is not a number', () => withTimestamp('yesterday'), 10029],
    [
      'an unknown property on an Attachment',
      () => attachmentsEntry({ id: 'a', name: 'n', mimeType: 'image/png', url: 'u', size: 3 }),
      10045,
    ],
    ['an Attachment without url', () => attachmentsEntry({ id: 'a', name: 'n', mimeType: 'image/png' }), 10045],
    ['an unknown property on a SelectedOption', () => selections([{ optionIdentifier: 'o', colour: 'red' }]), 10045],
    ['an unknown property on a RecordReference', () => withReferences([{ id: 'r', recordId: '001', note: 'x' }]), 10045],
    ['a RecordReference without recordId', () => withReferences([{ id: 'r' }]), 10045],
    ['a form input value without inputId', () => formInputs([{ inputValueType: 'SingleInputValue', value: {} }]), 10045],
    ['a form input value of an unknown type', () => formInputs([{ inputValueType: 'Guess', inputId: 'i', value: {} }]), 10045],
    [
      'a single input value of an unknown valueType',
      () => formInputs([{ inputValueType: 'SingleInputValue', inputId: 'i', value: { valueType: 'Guess' } }]),
      10045,
    ],
    ['a single input value without value', () => formInputs([{ inputValueType: 'SingleInputValue', inputId: 'i' }]), 10045],
    [
      'a selected-options input value without selectedOptions',
      () => formInputs([{ inputValueType: 'SelectedOptionsInputValue', inputId: 'i' }]),
      10045,
    ],
    [
      'a records result with two records (maxItems 1)',
      () => formResult({ resultType: 'FormRecordsResult', records: [record, record] }),
      10045,
    ],
    ['an error result with no errors', () => formResult({ resultType: 'FormErrorResult', errors: [] }), 10045],
    ['a Links message with two links (maxItems 1)', () => links([{ url: 'https://a' }, { url: 'https://b' }]), 10045],
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
    [
      'an attachmentIndex that is not a number',
      () => ({ ...textMessage('x'), interactions: [attachment({ attachmentIndex: 'first' })] }),
      10029,
    ],
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

  const accepted: Array<[string, () => unknown]> = [
    ['an empty text (the contract sets no minimum)', () => textEntry('')],
    ['a timestamp as a numeric string', () => withTimestamp(String(Date.now()))],
    [
      'contentLength and attachmentIndex as numeric strings',
      () => ({ ...textMessage('x'), interactions: [attachment({ contentLength: '10', attachmentIndex: '0' })] }),
    ],
    [
      'an Attachment with every property the contract lists',
      () => attachmentsEntry({ id: 'a', name: 'n', mimeType: 'image/png', url: 'u', referenceId: 'r', attachmentUploadResult: {} }),
    ],
    [
      'a SelectedOption with an optionTitle',
      () => selections([{ optionIdentifier: 'o', optionTitle: { itemType: 'TitleItem', title: 'Yes' } }]),
    ],
    [
      'complete form input values',
      () =>
        formInputs([
          { inputValueType: 'SingleInputValue', inputId: 'i', value: { valueType: 'TextValue', textValue: 'x' } },
          { inputValueType: 'SelectedOptionsInputValue', inputId: 'j', selectedOptions: [{ optionIdentifier: 'o' }] },
        ]),
    ],
    ['a records result with one record', () => formResult({ resultType: 'FormRecordsResult', records: [record] })],
    ['unknown properties on an object the contract leaves open', () => textMessage('x', { extra: { somethingNew: true } })],
  ];
  for (const [name, makeBody] of accepted) {
    test(`accepts ${name}`, () => {
      assert.equal(validateInteractionRequest(makeBody()).interactions.length, 1);
    });
  }

  test('a numeric-string timestamp is read as the number', () => {
    const now = Date.now();
    assert.equal(validateInteractionRequest(withTimestamp(String(now))).interactions[0]?.timestamp, now);
  });

  test('the local org takes timestamps from 24 hours back to 10 minutes ahead of its clock (10046 outside)', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const check = (timestamp: number) => () => checkInteractionTimestamps(validateInteractionRequest(withTimestamp(timestamp)), now);
    for (const inside of [now - DAY, now - 23 * 3_600_000, now, now + 5 * 60_000, now + 10 * 60_000]) check(inside)();
    for (const outside of [now - DAY - 1, now - 2 * DAY, now + 10 * 60_000 + 1, now + 3_600_000]) {
      assert.deepEqual(refusalOf(check(outside)), { status: 400, code: 10046 }, new Date(outside).toISOString());
    }
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
