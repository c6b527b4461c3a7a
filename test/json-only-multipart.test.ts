import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import type { Writable } from 'node:stream';
import {
  bufferedJsonOnlyField,
  jsonOnlyFieldValue,
  MAX_JSON_ONLY_BODY_BYTES,
  simpleBoundary,
} from '../src/attachments/json-only-multipart.ts';
import { textMessage } from './helpers/api-client.ts';

// The direct reader of a json-only multipart body against busboy, the parser multer runs (the very copy
// multer loads, configured as interaction-upload.ts configures multer): on every body of the table the
// reader either returns the value busboy reports for the body's one part, a `json` field, with nothing
// else in the body, or returns undefined ("not mine"), never anything else.

const requireFromMulter = createRequire(createRequire(import.meta.url).resolve('multer'));
type Busboy = Writable & { on(event: string, listener: (...args: any[]) => void): Busboy };
const busboy = requireFromMulter('busboy') as (config: Record<string, unknown>) => Busboy;

const LIMIT = 1000;

interface BusboyReading {
  events: string[];
  /** The `json` field's value when the body is that one field and nothing else, read without a problem. */
  jsonOnly?: string;
}

/** What busboy makes of the body, with the limits multer gives it (one more than its own, see multer). */
function readWithBusboy(contentType: string, body: Buffer): Promise<BusboyReading> {
  return new Promise((resolve) => {
    const events: string[] = [];
    const fields: [string | undefined, string, boolean][] = [];
    let parser: Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        defParamCharset: 'utf8',
        limits: { fieldSize: LIMIT + 1, parts: 17, files: 8, fields: 8 },
      });
    } catch (err) {
      resolve({ events: [`throws ${(err as Error).message}`] });
      return;
    }
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      const clean = events.every((e) => e.startsWith('field ')) && fields.length === 1;
      const [name, value, truncated] = fields[0] ?? [];
      resolve({ events, ...(clean && name === 'json' && !truncated ? { jsonOnly: value } : {}) });
    };
    parser.on('field', (name: string | undefined, value: string, info: { valueTruncated: boolean }) => {
      fields.push([name, value, info.valueTruncated]);
      events.push(`field ${name} ${info.valueTruncated ? 'truncated' : ''}`);
    });
    parser.on('file', (name: string | undefined, stream: NodeJS.ReadableStream) => {
      events.push(`file ${name}`);
      stream.resume();
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit']) parser.on(limit, () => events.push(limit));
    parser.on('error', (err: Error) => {
      events.push(`error ${err.message}`);
      done();
    });
    parser.on('close', done);
    parser.end(body);
  });
}

const B = '----bridge-test-boundary-7MA4YWxkTrZu0gW';
const TYPE = `multipart/form-data; boundary=${B}`;
const json = JSON.stringify(textMessage('Hello, café ☕ 😀', { id: 'entry-1' }));
const part = (headers: string, value: string | Buffer) => Buffer.concat([Buffer.from(`--${B}\r\n${headers}\r\n\r\n`), Buffer.from(value)]);
const close = `\r\n--${B}--\r\n`;
const disposition = 'Content-Disposition: form-data; name="json"';
const plain = (value: string | Buffer = json, tail = close) => Buffer.concat([part(disposition, value), Buffer.from(tail)]);

/** [name, Content-Type, body, whether the reader must take it]. */
type Row = [string, string, Buffer, boolean];
const table: Row[] = [
  ['as curl -F json=... sends it', TYPE, plain(), true],
  [
    'with Content-Type: application/json (curl ;type=application/json)',
    TYPE,
    Buffer.concat([part(`${disposition}\r\nContent-Type: application/json`, json), Buffer.from(close)]),
    true,
  ],
  [
    'with a UTF-8 charset',
    TYPE,
    Buffer.concat([part(`${disposition}\r\nContent-Type: text/plain; charset="UTF-8"`, json), Buffer.from(close)]),
    true,
  ],
  ['without the final CRLF', TYPE, plain(json, `\r\n--${B}--`), true],
  [
    'header names and values in other cases',
    TYPE,
    Buffer.concat([part('content-DISPOSITION: FORM-DATA; NAME=json', json), Buffer.from(close)]),
    true,
  ],
  [
    'spaces around the semicolon',
    TYPE,
    Buffer.concat([part('Content-Disposition:form-data ;  name="json"  ', json), Buffer.from(close)]),
    true,
  ],
  ['a quoted boundary', `multipart/form-data; boundary="${B}"`, plain(), true],
  [
    'a quoted boundary with a space',
    'multipart/form-data; boundary="a b"',
    Buffer.from(`--a b\r\n${disposition}\r\n\r\n${json}\r\n--a b--\r\n`),
    true,
  ],
  ['Content-Type in other case and spacing', `Multipart/Form-Data ;boundary=${B} `, plain(), true],
  ['an empty value', TYPE, plain(''), true],
  ['a value of exactly the limit', TYPE, plain('x'.repeat(LIMIT)), true],
  ['invalid UTF-8 in the value', TYPE, plain(Buffer.from([0x7b, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0x7d])), true],
  ['a value holding CRLF and dashes', TYPE, plain(`a\r\n--\r\n-${B}\r\n\r\nb`), true],
  ['a value holding the delimiter without its CRLF', TYPE, plain(`x--${B}--`), true],
  ['a BOM at the start of the value', TYPE, plain(`\ufeff${json}`), true],
  // Not mine: multer reads these.
  ['a value one byte over the limit', TYPE, plain('x'.repeat(LIMIT + 1)), false],
  [
    'the json part as a file',
    TYPE,
    Buffer.concat([part('Content-Disposition: form-data; name="json"; filename="body.json"', json), Buffer.from(close)]),
    false,
  ],
  [
    'application/octet-stream',
    TYPE,
    Buffer.concat([part(`${disposition}\r\nContent-Type: application/octet-stream`, json), Buffer.from(close)]),
    false,
  ],
  [
    'a latin1 charset',
    TYPE,
    Buffer.concat([part(`${disposition}\r\nContent-Type: text/plain; charset=latin1`, 'caf\xe9'), Buffer.from(close)]),
    false,
  ],
  [
    'json and a file part',
    TYPE,
    Buffer.concat([
      part(disposition, json),
      Buffer.from('\r\n'),
      part('Content-Disposition: form-data; name="attachments"; filename="a.txt"', 'hello'),
      Buffer.from(close),
    ]),
    false,
  ],
  [
    'a file part first',
    TYPE,
    Buffer.concat([
      part('Content-Disposition: form-data; name="attachments"; filename="a.txt"', 'hello'),
      Buffer.from('\r\n'),
      part(disposition, json),
      Buffer.from(close),
    ]),
    false,
  ],
  [
    'two json fields',
    TYPE,
    Buffer.concat([part(disposition, json), Buffer.from('\r\n'), part(disposition, json), Buffer.from(close)]),
    false,
  ],
  [
    'another field after json',
    TYPE,
    Buffer.concat([
      part(disposition, json),
      Buffer.from('\r\n'),
      part('Content-Disposition: form-data; name="x"', '1'),
      Buffer.from(close),
    ]),
    false,
  ],
  ['a field of another name', TYPE, Buffer.concat([part('Content-Disposition: form-data; name="JSON"', json), Buffer.from(close)]), false],
  ['a field without a name', TYPE, Buffer.concat([part('Content-Disposition: form-data', json), Buffer.from(close)]), false],
  ['an extended name', TYPE, Buffer.concat([part("Content-Disposition: form-data; name*=utf-8''json", json), Buffer.from(close)]), false],
  [
    'a disposition other than form-data',
    TYPE,
    Buffer.concat([part('Content-Disposition: attachment; name="json"', json), Buffer.from(close)]),
    false,
  ],
  ['no Content-Disposition', TYPE, Buffer.concat([part('Content-Type: application/json', json), Buffer.from(close)]), false],
  ['no headers at all', TYPE, Buffer.from(`--${B}\r\n\r\n${json}${close}`), false],
  ['another header', TYPE, Buffer.concat([part(`${disposition}\r\nX-Extra: 1`, json), Buffer.from(close)]), false],
  [
    'Content-Transfer-Encoding',
    TYPE,
    Buffer.concat([part(`${disposition}\r\nContent-Transfer-Encoding: base64`, json), Buffer.from(close)]),
    false,
  ],
  ['a folded header', TYPE, Buffer.concat([part('Content-Disposition: form-data;\r\n name="json"', json), Buffer.from(close)]), false],
  ['a header without a colon', TYPE, Buffer.concat([part(`${disposition}\r\nbroken`, json), Buffer.from(close)]), false],
  ['a duplicate Content-Disposition', TYPE, Buffer.concat([part(`${disposition}\r\n${disposition}`, json), Buffer.from(close)]), false],
  ['a preamble', TYPE, Buffer.concat([Buffer.from('preamble\r\n'), plain()]), false],
  ['an epilogue', TYPE, plain(json, `${close}epilogue`), false],
  ['no closing delimiter', TYPE, part(disposition, json), false],
  ['a closing delimiter without its dashes', TYPE, plain(json, `\r\n--${B}\r\n`), false],
  ['the delimiter followed by other text inside the value', TYPE, plain(`a\r\n--${B}x`), false],
  ['the value starting with the delimiter', TYPE, plain(`--${B}--`), false],
  ['LF line endings', TYPE, Buffer.from(`--${B}\n${disposition}\n\n${json}\n--${B}--\n`), false],
  ['an empty body', TYPE, Buffer.alloc(0), false],
  ['the closing delimiter only', TYPE, Buffer.from(`--${B}--\r\n`), false],
  ['another boundary in the body', TYPE, plain().toString('latin1').replaceAll(B, `${B}x`) as unknown as Buffer, false],
  ['a Content-Type with another parameter', `${TYPE}; charset=utf-8`, plain(), false],
  ['a Content-Type without a boundary', 'multipart/form-data', plain(), false],
  [
    'a quoted boundary with an escape',
    'multipart/form-data; boundary="a\\"b"',
    Buffer.from(`--a"b\r\n${disposition}\r\n\r\n${json}\r\n--a"b--\r\n`),
    false,
  ],
].map((row) => (typeof row[2] === 'string' ? [row[0], row[1], Buffer.from(row[2], 'latin1'), row[3]] : row) as Row);

/** undici's FormData, as a Node client (and fetch in the browser) sends it. */
async function formDataBody(): Promise<[string, Buffer]> {
  const form = new FormData();
  form.append('json', json);
  const response = new Response(form);
  return [response.headers.get('content-type') as string, Buffer.from(await response.arrayBuffer())];
}

async function check(contentType: string, body: Buffer, mine: boolean) {
  const expected = await readWithBusboy(contentType, body);
  const boundary = simpleBoundary(contentType);
  const value = boundary === undefined ? undefined : jsonOnlyFieldValue(boundary, body, LIMIT);
  if (value !== undefined) assert.equal(value, expected.jsonOnly, `busboy: ${expected.events.join('; ')}`);
  assert.equal(value !== undefined, mine, `reader ${value === undefined ? 'left' : 'took'} it; busboy: ${expected.events.join('; ')}`);
}

describe('jsonOnlyFieldValue against busboy', () => {
  for (const [name, contentType, body, mine] of table) {
    test(name, () => check(contentType, body, mine));
  }

  test('a body over 64 KiB is left to multer, whatever the json part limit', () => {
    const big = plain(JSON.stringify({ text: 'x'.repeat(MAX_JSON_ONLY_BODY_BYTES) }));
    assert.equal(jsonOnlyFieldValue(B, big, 10 * MAX_JSON_ONLY_BODY_BYTES), undefined);
    const fits = plain(JSON.stringify({ text: 'x'.repeat(MAX_JSON_ONLY_BODY_BYTES - 500) }));
    assert.equal(
      jsonOnlyFieldValue(B, fits, 10 * MAX_JSON_ONLY_BODY_BYTES),
      fits.toString('utf8', fits.indexOf('{'), fits.length - close.length),
    );
  });

  test('as undici FormData sends it', async () => {
    const [contentType, body] = await formDataBody();
    await check(contentType, body, true);
  });

  test('every split of the common body into a value busboy reads the same', async () => {
    // The reader sees the whole body; busboy gets it in chunks. Same answer whatever the chunking.
    const body = plain();
    const value = jsonOnlyFieldValue(B, body, LIMIT);
    assert.equal(value, json);
    for (const at of [1, 10, body.length - 5]) {
      const reading = await new Promise<string | undefined>((resolve) => {
        const parser = busboy({ headers: { 'content-type': TYPE }, defParamCharset: 'utf8', limits: { fieldSize: LIMIT + 1 } });
        let got: string | undefined;
        parser.on('field', (_name: string, v: string) => (got = v));
        parser.on('close', () => resolve(got));
        parser.write(body.subarray(0, at));
        parser.end(body.subarray(at));
      });
      assert.equal(reading, value);
    }
  });
});

describe('bufferedJsonOnlyField on a real HTTP request', () => {
  /** Posts `body` and answers what the reader took, and what a reader after it (multer's place) still reads. */
  async function exchange(body: Buffer, contentType = TYPE) {
    const server = http.createServer((req, res) => {
      // The route runs after the guard's awaits, as this does.
      void Promise.resolve().then(() => {
        const taken = bufferedJsonOnlyField(req, LIMIT);
        const rest: Buffer[] = [];
        req.on('data', (c: Buffer) => rest.push(c));
        req.on('end', () => res.end(JSON.stringify({ taken: taken ?? null, rest: Buffer.concat(rest).toString('latin1') })));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: new Uint8Array(body),
      });
      return (await res.json()) as { taken: string | null; rest: string };
    } finally {
      server.close();
    }
  }

  test('a json-only body is taken whole, leaving nothing to read', async () => {
    assert.deepEqual(await exchange(plain()), { taken: json, rest: '' });
  });

  test('a body it does not take is put back whole for the next reader', async () => {
    const body = Buffer.concat([Buffer.from('preamble\r\n'), plain()]);
    assert.deepEqual(await exchange(body), { taken: null, rest: body.toString('latin1') });
    const other = plain();
    assert.deepEqual(await exchange(other, 'multipart/form-data; boundary=other'), { taken: null, rest: other.toString('latin1') });
  });
});
