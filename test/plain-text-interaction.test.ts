import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkJsonLimits, jsonLimitProblem, jsonTextWithinLimits, MAX_JSON_DEPTH } from '../src/contract/json-limits.ts';
import { parseInteractionJsonPart, validateInteractionRequest } from '../src/contract/interaction-request.ts';
import { plainTextInteraction } from '../src/contract/plain-text-interaction.ts';
import { textMessage } from './helpers/api-client.ts';

// The hand-written check of a plain text message against validateInteractionRequest (the zod path): on
// every body of the table it either answers exactly what validateInteractionRequest answers, or stays out
// (undefined); it never answers a body validateInteractionRequest refuses.

type Body = Record<string, unknown>;
const base = () => textMessage('Hello from the table', { id: 'entry-1' }) as Body & { interactions: Body[] };
const edit = (change: (b: Body & { interactions: Body[] }) => void): Body => {
  const b = structuredClone(base());
  change(b);
  return b;
};
const payloadOf = (b: { interactions: Body[] }) => b.interactions[0]!.payload as Body;
const messageOf = (b: { interactions: Body[] }) => payloadOf(b).abstractMessage as Body;
const contentOf = (b: { interactions: Body[] }) => messageOf(b).staticContent as Body;

/** [name, body, whether the fast path must take it]. */
const table: [string, unknown, boolean][] = [
  ['the README text message', base(), true],
  ['with routingAttributes', edit((b) => (b.routingAttributes = { Language: 'en_US', '1': 'one' })), true],
  ['with routingAttributes null', edit((b) => (b.routingAttributes = null)), true],
  ['with empty routingAttributes', edit((b) => (b.routingAttributes = {})), true],
  ['with extras everywhere', edit((b) => ((b.extra = 1), (payloadOf(b).extra = [1]), (contentOf(b).extra = { a: 1 }))), true],
  [
    'with inReplyToMessageId and customHandlingType',
    edit((b) => Object.assign(messageOf(b), { inReplyToMessageId: 'x', customHandlingType: 'Survey' })),
    true,
  ],
  ['timestamp 0', edit((b) => (b.interactions[0]!.timestamp = 0)), true],
  ['timestamp -0', edit((b) => (b.interactions[0]!.timestamp = -0)), true],
  ['an empty text', edit((b) => (contentOf(b).text = '')), true],
  ['to of 240 characters', edit((b) => (b.to = 'a'.repeat(240))), true],
  ['from of 255 characters', edit((b) => (b.from = 'b'.repeat(255))), true],
  // Left to the zod path, valid or not.
  ['timestamp as a numeric string', edit((b) => (b.interactions[0]!.timestamp = '1700000000000')), false],
  ['timestamp fractional', edit((b) => (b.interactions[0]!.timestamp = 1.5)), false],
  ['timestamp negative', edit((b) => (b.interactions[0]!.timestamp = -1)), false],
  ['timestamp beyond safe integers', edit((b) => (b.interactions[0]!.timestamp = 2 ** 53)), false],
  ['timestamp missing', edit((b) => delete b.interactions[0]!.timestamp), false],
  ['to blank', edit((b) => (b.to = '  ')), false],
  ['to of 241 characters', edit((b) => (b.to = 'a'.repeat(241))), false],
  ['from of 256 characters', edit((b) => (b.from = 'b'.repeat(256))), false],
  ['from a number', edit((b) => (b.from = 5)), false],
  ['routingAttributes with a number', edit((b) => (b.routingAttributes = { a: 1 })), false],
  ['routingAttributes an array', edit((b) => (b.routingAttributes = ['a'])), false],
  ['routingAttributes a string', edit((b) => (b.routingAttributes = 'a')), false],
  ['routingAttributes with __proto__', JSON.parse('{"to":"c","from":"f","routingAttributes":{"__proto__":"x"},"interactions":[]}'), false],
  ['two interactions', edit((b) => b.interactions.push(b.interactions[0]!)), false],
  ['no interactions', edit((b) => (b.interactions = [])), false],
  ['interactions an object', edit((b) => (b.interactions = {} as never)), false],
  ['an AttachmentInteraction', edit((b) => (b.interactions[0]!.interactionType = 'AttachmentInteraction')), false],
  ['a typing indicator', edit((b) => (payloadOf(b).entryType = 'TypingStartedIndicator')), false],
  ['entry id blank', edit((b) => ((payloadOf(b).id = ' '), (messageOf(b).id = ' '))), false],
  ['message id another', edit((b) => (messageOf(b).id = 'entry-2')), false],
  ['message id missing', edit((b) => delete messageOf(b).id), false],
  ['a ChoicesResponseMessage', edit((b) => (messageOf(b).messageType = 'ChoicesResponseMessage')), false],
  ['a ChoicesMessage', edit((b) => (messageOf(b).messageType = 'ChoicesMessage')), false],
  ['inReplyToMessageId null', edit((b) => (messageOf(b).inReplyToMessageId = null)), false],
  ['customHandlingType unknown', edit((b) => (messageOf(b).customHandlingType = 'Other')), false],
  ['references', edit((b) => (messageOf(b).references = [{ id: 'a', recordId: 'b' }])), false],
  ['Links format', edit((b) => (contentOf(b).formatType = 'Links')), false],
  ['text missing', edit((b) => delete contentOf(b).text), false],
  ['text a number', edit((b) => (contentOf(b).text = 5)), false],
  ['staticContent missing', edit((b) => delete messageOf(b).staticContent), false],
  ['payload an array', edit((b) => (b.interactions[0]!.payload = [])), false],
  ['an array', [base()], false],
  ['null', null, false],
];

const outcome = (f: () => unknown) => {
  try {
    return { value: f() };
  } catch (err) {
    return { error: err };
  }
};

describe('plainTextInteraction', () => {
  for (const [name, body, taken] of table) {
    test(name, () => {
      const fast = plainTextInteraction(body);
      const zod = outcome(() => validateInteractionRequest(body));
      assert.equal(fast !== undefined, taken);
      if (fast !== undefined) assert.deepStrictEqual(fast, zod.value);
    });
  }

  test('a body with a __proto__ key in its text reaches the zod path with the same answer as before', () => {
    const text = JSON.stringify(base()).replace('"to":', '"__proto__":{"x":1},"to":');
    assert.deepStrictEqual(parseInteractionJsonPart(text), { jsonText: text, ...validateInteractionRequest(JSON.parse(text)) });
  });
});

describe('jsonTextWithinLimits', () => {
  const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);
  // Every text here is valid JSON; where the bound says "within", the walk must agree.
  const texts = [
    JSON.stringify(base()),
    nested(MAX_JSON_DEPTH),
    nested(MAX_JSON_DEPTH + 1),
    nested(MAX_JSON_DEPTH + 1, '{"a":', '}').replace(/\{"a":\}$/, '1}'),
    `{"k":"${'['.repeat(200)}"}`,
    '"\\u0000"',
    '{"\\u0000":1}',
    '"\\\\u0000"',
    '"\\u00000"',
    JSON.stringify({ text: 'x'.repeat(5000) }),
  ];
  for (const text of texts) {
    test(`${text.slice(0, 40)}… (${text.length} characters)`, () => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return; // the construction above made invalid JSON: nothing to check
      }
      if (jsonTextWithinLimits(text)) assert.equal(jsonLimitProblem(value), undefined);
    });
  }

  test('says "might" where a limit is broken', () => {
    assert.equal(jsonTextWithinLimits(nested(MAX_JSON_DEPTH + 1)), false);
    assert.equal(jsonLimitProblem(JSON.parse(nested(MAX_JSON_DEPTH + 1))), 'too_deep');
    assert.equal(jsonTextWithinLimits('"\\u0000"'), false);
    assert.equal(jsonLimitProblem(JSON.parse('"\\u0000"')), 'nul');
  });

  test('the shortest text that can break the depth limit is 2 × (MAX_JSON_DEPTH + 1) characters', () => {
    const shortest = nested(MAX_JSON_DEPTH + 1);
    assert.equal(shortest.length, 2 * (MAX_JSON_DEPTH + 1));
    assert.equal(jsonLimitProblem(JSON.parse(nested(MAX_JSON_DEPTH))), undefined);
    assert.throws(() => checkJsonLimits(JSON.parse(shortest)));
  });

  test('a raw U+0000 is not JSON, so it needs no escape check', () => {
    assert.throws(() => JSON.parse('"\u0000"'), SyntaxError);
    assert.throws(() => JSON.parse('[1,\u00002]'), SyntaxError);
  });

  test('the common text message is within limits and is not walked', () => {
    assert.equal(jsonTextWithinLimits(JSON.stringify(base())), true);
  });
});
