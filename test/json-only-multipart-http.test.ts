import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ApiError } from '../src/contract/api-error.ts';
import { apiError } from '../src/contract/interaction-errors.ts';
import { accessToken, textMessage } from './helpers/api-client.ts';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';
import { callApi } from './helpers/json-api.ts';

// POST /interactions bodies the json-only reader takes (src/attachments/json-only-multipart.ts) and bodies
// it leaves to multer, through the real server: the same messages are stored, and the malformed ones keep
// the precise refusal multer's path gives them (code and message).

const JSON_LIMIT = 4096;
const B = 'json-only-http-boundary';
const disposition = 'Content-Disposition: form-data; name="json"';
const body = (parts: string[], { preamble = '', tail = `\r\n--${B}--\r\n` } = {}) =>
  `${preamble}${parts.map((p, i) => `${i > 0 ? '\r\n' : ''}--${B}\r\n${p}`).join('')}${tail}`;
const jsonPart = (json: string, headers = disposition) => `${headers}\r\n\r\n${json}`;

for (const store of storeKinds()) {
  describe(`json-only multipart bodies, read directly or by multer (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    before(async () => {
      bridge = await startBridge({ store, env: { JSON_BODY_LIMIT_BYTES: String(JSON_LIMIT) } });
      token = await accessToken(bridge);
    });
    after(() => bridge.dispose());

    const post = (raw: string, contentType = `multipart/form-data; boundary=${B}`) =>
      callApi(bridge, 'POST', '/interactions', { token, contentType, body: raw });
    const storedPayload = async (conversationIdentifier: string, entryId: string) => {
      const conversation = await bridge.management(`/api/conversations/${conversationIdentifier}`);
      return (conversation.entries as Array<{ entryId: string; payload: unknown }>).find((e) => e.entryId === entryId)?.payload;
    };

    test('the README text message gets 202 and is stored as sent, read directly or by multer', async () => {
      const shapes: [string, (json: string) => string][] = [
        ['as curl sends it', (json) => body([jsonPart(json)])],
        ['with ;type=application/json', (json) => body([jsonPart(json, `${disposition}\r\nContent-Type: application/json`)])],
        // Left to multer: the reader puts back what it read, and multer reads it all.
        ['after a preamble', (json) => body([jsonPart(json)], { preamble: 'a preamble\r\n' })],
        ['before an epilogue', (json) => body([jsonPart(json)], { tail: `\r\n--${B}--\r\nan epilogue` })],
        ['with an ignored field after it', (json) => body([jsonPart(json), jsonPart('1', 'Content-Disposition: form-data; name="other"')])],
      ];
      for (const [shape, make] of shapes) {
        const sent = textMessage(`Hello ${shape}`, {
          from: `json-only-${randomUUID()}`,
          extra: { routingAttributes: { Language: 'en_US' } },
        });
        const res = await post(make(JSON.stringify(sent)));
        assert.equal(res.status, 202, `${shape}: ${JSON.stringify(res.body)}`);
        const entryId = sent.interactions[0]!.payload.id;
        assert.deepEqual(await storedPayload(res.body.conversationIdentifier, entryId), sent.interactions[0]!.payload, shape);
      }
    });

    test('malformed bodies keep their precise refusals', async () => {
      const valid = JSON.stringify(textMessage('x'));
      const attachmentOnly = JSON.stringify({
        ...textMessage('x'),
        interactions: [
          { timestamp: Date.now(), interactionType: 'AttachmentInteraction', id: randomUUID(), attachmentIndex: 0, contentLength: 3 },
        ],
      });
      const refusal = (name: Parameters<typeof apiError>[0], params?: object) => {
        const err = (apiError as (n: string, p?: object) => ApiError)(name, params);
        return [err.status, { code: err.code, message: err.message }];
      };
      const cases: [string, string, unknown[]][] = [
        ['an empty json part', body([jsonPart('')]), refusal('MissingJsonPart')],
        [
          'json that does not parse',
          body([jsonPart('{"to":')]),
          refusal('MalformedBody', { problem: 'the "json" part is not valid JSON' }),
        ],
        [
          'a json part over the limit',
          body([jsonPart(`{"x":"${'a'.repeat(JSON_LIMIT)}"}`)]),
          refusal('BodyTooLarge', { what: 'The "json" part', limitBytes: JSON_LIMIT }),
        ],
        [
          'nested too deep',
          body([jsonPart('['.repeat(70) + ']'.repeat(70))]),
          refusal('BodyTooDeep', { where: 'The "json" part', maxDepth: 64 }),
        ],
        ['a NUL escape', body([jsonPart(valid.replace('"x"', '"\\u0000"'))]), refusal('NulInInput', { where: 'The "json" part' })],
        ['"to" missing', body([jsonPart(valid.replace('"to":', '"tx":'))]), refusal('InvalidTo')],
        ['an AttachmentInteraction without its file', body([jsonPart(attachmentOnly)]), refusal('MissingFiles')],
        [
          'two json parts',
          body([jsonPart(valid), jsonPart(valid)]),
          refusal('MalformedBody', { problem: 'the request has more than one "json" part' }),
        ],
        [
          'attachments as a plain field',
          body([jsonPart('abc', 'Content-Disposition: form-data; name="attachments"'), jsonPart(valid)]),
          refusal('FilePartWithoutFile'),
        ],
        [
          'no closing delimiter',
          body([jsonPart(valid)], { tail: '' }),
          refusal('UnreadableRequest', { problem: 'Unexpected end of form' }),
        ],
        [
          'a part without headers',
          `--${B}\r\n\r\n${valid}\r\n--${B}--\r\n`,
          refusal('UnreadableRequest', { problem: 'the multipart body is malformed: Malformed part header' }),
        ],
        ['no json part at all', body([jsonPart(valid, 'Content-Disposition: form-data; name="other"')]), refusal('MissingJsonPart')],
      ];
      for (const [name, raw, [status, answer]] of cases) {
        const res = await post(raw);
        assert.deepEqual([res.status, { code: res.body.code, message: res.body.message }], [status, answer], name);
      }
    });
  });
}
