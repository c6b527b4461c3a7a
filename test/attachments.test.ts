import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { accessToken, postInteraction, textMessage } from './helpers/api-client.ts';
import {
  attachmentRequest,
  bucketOf,
  filePart,
  jsonFilePart,
  jsonPart,
  keyOf,
  pngLike,
  sha256,
  streamInteraction,
  type Part,
} from './helpers/attachments.ts';
import { LOCAL_ORG, startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';

const MB = 1024 * 1024;
const LIMIT = 25 * MB;
const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'chat-photo.png');
const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

for (const store of storeKinds()) {
  describe(`attachments (${store})`, () => {
    let bridge: BridgeProcess;
    let token: string;
    let bucket: ReturnType<typeof bucketOf>;
    before(async () => {
      bridge = await startBridge({ store });
      token = await accessToken(bridge);
      bucket = bucketOf(bridge);
    });
    after(() => bridge.dispose());

    const conversation = (id: string) => bridge.management(`/api/conversations/${id}`);
    const download = (url: string) => fetch(url, { headers: { authorization: `Bearer ${bridge.adminKey}` } });

    /** Accepted, listed on its entry, downloadable, and stored byte for byte (checked with a raw GET). */
    async function assertStored(
      res: { status: number; body: any },
      sent: Buffer,
      expect: { name: string; mimeType: string; text?: string },
    ) {
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.success, true);
      const entry = (await conversation(res.body.conversationIdentifier)).entries.find((e: any) => e.entryId === res.body.id);
      assert.ok(entry, 'the entry is recorded under the interaction id');
      assert.equal(entry.entryType, 'Message');
      const content = entry.payload.abstractMessage.staticContent;
      assert.equal(content.formatType, 'Attachments');
      if (expect.text) assert.equal(content.text, expect.text);
      const [attachment] = entry.attachments;
      assert.deepEqual(
        { name: attachment.name, mimeType: attachment.mimeType, size: attachment.size, sha256: attachment.sha256 },
        { name: expect.name, mimeType: expect.mimeType, size: sent.length, sha256: sha256(sent) },
      );
      assert.deepEqual(content.attachments, [
        {
          id: attachment.id,
          name: attachment.name,
          mimeType: attachment.mimeType,
          size: attachment.size,
          sha256: attachment.sha256,
          url: attachment.url,
        },
      ]);
      assert.match(attachment.url, /^s3:\/\/byoc-attachments\//);

      const downloaded = await download(attachment.downloadUrl);
      assert.equal(downloaded.status, 200);
      assert.equal(downloaded.headers.get('content-type'), expect.mimeType);
      assert.equal(sha256(Buffer.from(await downloaded.arrayBuffer())), sha256(sent), 'downloaded bytes = sent bytes');

      // What the object store holds, read without checksum decoding: aws-chunked framing stored as content would show here.
      const raw = await bucket.rawGet(keyOf(attachment.url));
      assert.equal(raw.bytes.length, sent.length);
      assert.equal(sha256(raw.bytes), sha256(sent), 'stored object bytes = sent bytes');
      assert.equal(raw.contentType, expect.mimeType);
      assert.equal(raw.metadata?.sha256, sha256(sent));
      assert.equal(decodeURIComponent(raw.metadata['original-name'] ?? ''), expect.name);
      return { entry, attachment };
    }

    test(
      "the README's attachment curl example answers 202 with a real image, byte-identical on download",
      { skip: !hasCurl && 'curl is not installed' },
      async () => {
        const image = fs.readFileSync(FIXTURE);
        const id = randomUUID();
        const json = `{
  "to": "${LOCAL_ORG.channel}",
  "from": "${LOCAL_ORG.endUser}",
  "interactions": [{
    "timestamp": ${Date.now()},
    "interactionType": "AttachmentInteraction",
    "id": "${id}",
    "attachmentIndex": 0,
    "contentLength": ${image.length},
    "text": "This is my file"
  }]
}`;
        const { stdout } = await promisify(execFile)('curl', [
          '-s',
          '-w',
          '\n%{http_code}',
          '-H',
          `Authorization: Bearer ${token}`,
          '-H',
          `OrgId: ${LOCAL_ORG.orgId}`,
          '-H',
          `AuthorizationContext: ${LOCAL_ORG.authorizationContext}`,
          '-H',
          'content-type:multipart/form-data',
          '-H',
          `RequestId: ${randomUUID()}`,
          '-X',
          'POST',
          '-F',
          `json=${json};type=application/json`,
          '-F',
          `attachments=@${FIXTURE}`,
          `${bridge.baseUrl}/api/v1/interactions`,
        ]);
        const [body, status] = [stdout.slice(0, stdout.lastIndexOf('\n')), stdout.slice(stdout.lastIndexOf('\n') + 1)];
        const res = { status: Number(status), body: JSON.parse(body) };
        assert.equal(res.body.id, id);
        await assertStored(res, image, { name: 'chat-photo.png', mimeType: 'image/png', text: 'This is my file' });
      },
    );

    for (const size of [512, 1 * MB, LIMIT]) {
      test(`a ${size} byte file sent as application/octet-stream is streamed, typed from its content, and stored byte-exact`, async () => {
        const file = pngLike(size);
        const res = await streamInteraction(
          bridge,
          [jsonPart(attachmentRequest([{ contentLength: size }])), filePart(file, `photo ${size}.bin`)],
          { token },
        );
        await assertStored(res, file, { name: `photo ${size}.bin`, mimeType: 'image/png' });
      });
    }

    test("the client's specific Content-Type is kept; text without one is recognised as text/plain", async () => {
      const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(3000)]);
      const res = await streamInteraction(
        bridge,
        [jsonPart(attachmentRequest([{ contentLength: pdf.length }])), filePart(pdf, 'report.pdf', 'application/pdf')],
        { token },
      );
      await assertStored(res, pdf, { name: 'report.pdf', mimeType: 'application/pdf' });
      const text = Buffer.from('Grüße aus dem Chat — order #4711\n'.repeat(200));
      const res2 = await streamInteraction(
        bridge,
        [jsonPart(attachmentRequest([{ contentLength: text.length }])), filePart(text, 'notes', undefined)],
        { token },
      );
      await assertStored(res2, text, { name: 'notes', mimeType: 'text/plain' });
    });

    test('a file makes an entry and opens a work item; the object key cannot traverse', async () => {
      const file = pngLike(5000);
      const body = attachmentRequest([{ contentLength: file.length, id: `../../${randomUUID()}` }], {
        from: `+1555${Date.now() % 10_000_000}`,
      });
      const res = await streamInteraction(bridge, [jsonPart(body), filePart(file, '../../etc/pass\twd.png')], { token });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.workItemIds.length, 1, 'a new conversation: one work item, as for a text message');
      const entries = (await conversation(res.body.conversationIdentifier)).entries;
      const stored = entries.find((e: any) => e.entryId === body.interactions[0]!.id).attachments[0];
      assert.equal(stored.name, 'passwd.png');
      const key = keyOf(stored.url);
      assert.ok(key.startsWith(`${LOCAL_ORG.orgId}/`), key);
      assert.ok(!key.split('/').some((s) => s === '..' || s === '.'), key);
      assert.doesNotMatch(key, /[\p{Cc}\\]/u);
      assert.equal(sha256((await bucket.rawGet(key)).bytes), sha256(file));
    });

    test('a file part before the json part is accepted and stored byte-exact under its own key', async () => {
      const file = pngLike(7 * MB);
      const res = await streamInteraction(
        bridge,
        [filePart(file, 'first.png'), jsonPart(attachmentRequest([{ contentLength: file.length, text: 'file first' }]))],
        { token },
      );
      const { attachment } = await assertStored(res, file, { name: 'first.png', mimeType: 'image/png', text: 'file first' });
      assert.doesNotMatch(keyOf(attachment.url), /\/unclaimed\//);
      assert.deepEqual(
        (await bucket.keys()).filter((k) => k.includes('/unclaimed/')),
        [],
        'the unclaimed copy is gone',
      );
    });

    test('a json part sent as a file part is read as the json part, in either order', async () => {
      const file = pngLike(9000);
      const first = await streamInteraction(
        bridge,
        [jsonFilePart(attachmentRequest([{ contentLength: file.length }])), filePart(file, 'after.png')],
        { token },
      );
      await assertStored(first, file, { name: 'after.png', mimeType: 'image/png' });
      const second = await streamInteraction(
        bridge,
        [
          filePart(file, 'before.png'),
          jsonFilePart(attachmentRequest([{ contentLength: file.length }]), 'blob', 'application/octet-stream'),
        ],
        { token },
      );
      await assertStored(second, file, { name: 'before.png', mimeType: 'image/png' });
    });

    test('FormData with Blobs, file first, as fetch sends it', async () => {
      const file = pngLike(12_000);
      const form = new FormData();
      form.append('attachments', new Blob([new Uint8Array(file)], { type: 'image/png' }), 'form.png');
      form.append('json', new Blob([JSON.stringify(attachmentRequest([{ contentLength: file.length }]))], { type: 'application/json' }));
      const res = await fetch(`${bridge.baseUrl}/api/v1/interactions`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          OrgId: LOCAL_ORG.orgId,
          AuthorizationContext: LOCAL_ORG.authorizationContext,
          RequestId: randomUUID(),
        },
        body: form,
      });
      await assertStored({ status: res.status, body: await res.json() }, file, { name: 'form.png', mimeType: 'image/png' });
    });

    test('a repeated request (same RequestId and bytes) is answered once and leaves one object', async () => {
      const file = pngLike(20_000);
      const parts = [jsonPart(attachmentRequest([{ contentLength: file.length }])), filePart(file, 'once.png')];
      const requestId = randomUUID();
      const before = await bucket.keys();
      const first = await streamInteraction(bridge, parts, { token, requestId });
      const second = await streamInteraction(bridge, parts, { token, requestId });
      assert.equal(first.status, 202);
      assert.deepEqual(second.body, first.body);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      const added = (await bucket.keys()).filter((k) => !before.includes(k));
      assert.equal(added.length, 1);
      const entries = (await conversation(first.body.conversationIdentifier)).entries.filter((e: any) => e.entryId === first.body.id);
      assert.equal(entries.length, 1);
    });

    describe('refusals: the precise code, and nothing left in the bucket', () => {
      const refusals: Array<{ name: string; code: number; parts: () => Part[]; status?: number; early?: boolean }> = [
        {
          name: 'two AttachmentInteractions (the contract allows one per request)',
          code: 10029,
          parts: () => [
            jsonPart(attachmentRequest([{ contentLength: 6000 }, { contentLength: 6000, attachmentIndex: 1 }])),
            filePart(pngLike(6000)),
            filePart(pngLike(6000)),
          ],
        },
        {
          name: 'two files, then two AttachmentInteractions (both files already stored)',
          code: 10029,
          parts: () => [
            filePart(pngLike(6000)),
            filePart(pngLike(6000)),
            jsonPart(attachmentRequest([{ contentLength: 6000 }, { contentLength: 6000, attachmentIndex: 1 }])),
          ],
        },
        {
          name: 'an attachmentIndex with no file',
          code: 10011,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 6000, attachmentIndex: 1 }])), filePart(pngLike(6000))],
        },
        {
          name: 'more files than AttachmentInteractions (the first already stored)',
          code: 10011,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 6000 }])), filePart(pngLike(6000)), filePart(pngLike(6000))],
        },
        { name: 'a file with an EntryInteraction', code: 10011, parts: () => [jsonPart(textMessage('hi')), filePart(pngLike(6000))] },
        { name: 'no file at all', code: 10009, parts: () => [jsonPart(attachmentRequest([{ contentLength: 6000 }]))] },
        {
          name: 'an empty file',
          code: 10009,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 0 }])), filePart(Buffer.alloc(0))],
        },
        {
          name: 'an attachments part without a file',
          code: 10009,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 10 }])), { kind: 'field', name: 'attachments', value: 'not a file' }],
        },
        {
          name: 'a second file that is empty, after a first one was stored',
          code: 10011,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 9000 }])), filePart(pngLike(9000)), filePart(Buffer.alloc(0))],
        },
        {
          name: 'a missing id',
          code: 10007,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 6000, id: '' }])), filePart(pngLike(6000))],
        },
        {
          name: 'a missing contentLength',
          code: 10010,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: undefined }])), filePart(pngLike(6000))],
        },
        {
          name: 'more bytes than contentLength (answered before the file ends)',
          code: 10051,
          early: true,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 1 * MB }])), filePart(pngLike(30 * MB))],
        },
        {
          name: 'fewer bytes than contentLength (found at the end of a partly uploaded file)',
          code: 10051,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 2 * MB }])), filePart(pngLike(1 * MB))],
        },
        {
          name: 'a declared size over 25 MB (answered before the file is read)',
          code: 10008,
          early: true,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 40 * MB }])), filePart(pngLike(40 * MB))],
        },
        {
          name: 'a file over 25 MB whose contentLength says 25 MB (answered at the limit)',
          code: 10008,
          early: true,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: LIMIT }])), filePart(pngLike(60 * MB))],
        },
        {
          name: 'content whose MIME type cannot be determined',
          code: 10095,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 10_000 }])), filePart(randomBytes(10_000), 'mystery')],
        },
        {
          name: 'a file before the json part, shorter than its contentLength',
          code: 10051,
          parts: () => [filePart(pngLike(6000)), jsonPart(attachmentRequest([{ contentLength: 6001 }]))],
        },
        {
          name: 'a file before a json part holding an EntryInteraction',
          code: 10011,
          parts: () => [filePart(pngLike(6000)), jsonPart(textMessage('hi'))],
        },
        {
          name: 'a file before a json part the contract refuses',
          code: 10027,
          parts: () => [filePart(pngLike(6000)), jsonPart(attachmentRequest([{ contentLength: 6000 }], { to: '' }))],
        },
        {
          name: 'a file and no json part at all',
          code: 10100,
          parts: () => [filePart(pngLike(6000))],
        },
        {
          name: 'a file over 25 MB before the json part (answered at the limit)',
          code: 10008,
          early: true,
          parts: () => [filePart(pngLike(60 * MB)), jsonPart(attachmentRequest([{ contentLength: LIMIT }]))],
        },
        {
          name: 'a part without a name (RFC 7578 requires one), after a file was stored',
          code: 10089,
          parts: () => [
            jsonPart(attachmentRequest([{ contentLength: 6000 }])),
            filePart(pngLike(6000)),
            { kind: 'file', name: '', filename: '', contentType: undefined, content: Buffer.from('x'), disposition: 'form-data' },
          ],
        },
        {
          name: 'a file part without a name, after a file that came before the json part',
          code: 10089,
          parts: () => [
            filePart(pngLike(6000)),
            { ...filePart(pngLike(6000), 'nameless.png'), disposition: 'form-data; filename="nameless.png"' },
            jsonPart(attachmentRequest([{ contentLength: 6000 }])),
          ],
        },
        {
          name: 'an attachments file part without a file name (a browser\'s "no file chosen")',
          code: 10009,
          parts: () => [
            jsonPart(attachmentRequest([{ contentLength: 6000 }])),
            { ...filePart(pngLike(6000)), disposition: 'form-data; name="attachments"' },
          ],
        },
        {
          name: 'a file before the json part, for an unknown channel (refused by the org)',
          code: 10017,
          parts: () => [filePart(pngLike(6000)), jsonPart(attachmentRequest([{ contentLength: 6000 }], { to: 'no-such-channel' }))],
        },
        {
          name: 'an unknown channel, refused by the org after the files were stored',
          code: 10017,
          parts: () => [jsonPart(attachmentRequest([{ contentLength: 6000 }], { to: 'no-such-channel' })), filePart(pngLike(6000))],
        },
      ];
      for (const refusal of refusals) {
        test(`${refusal.name}: ${refusal.code}`, async () => {
          const keysBefore = await bucket.keys();
          const conversationsBefore = await bridge.management('/api/conversations');
          const res = await streamInteraction(bridge, refusal.parts(), { token });
          assert.equal(res.status, refusal.status ?? 400, JSON.stringify(res.body));
          assert.equal(res.body.code, refusal.code, res.body.message);
          if (refusal.early) {
            assert.ok(res.bytesSent < res.totalBytes, `answered after ${res.bytesSent} of ${res.totalBytes} bytes`);
          }
          assert.deepEqual(await bucket.keys(), keysBefore, 'no object left behind');
          assert.deepEqual(await bridge.management('/api/conversations'), conversationsBefore, 'no entry recorded');
        });
      }
    });

    test('at most 16 parts: 8 fields and 8 file parts are accepted; one part more is 413, and nothing is kept', async () => {
      const file = pngLike(7000);
      const sixteen: Part[] = [
        jsonPart(attachmentRequest([{ contentLength: file.length }])),
        ...Array.from({ length: 7 }, (_, i): Part => ({ kind: 'field', name: `note${i}`, value: `ignored ${i}` })),
        filePart(file, 'sixteen.png'),
        ...Array.from({ length: 7 }, (_, i) => ({
          ...filePart(Buffer.from(`ignored ${i}`), `other${i}.txt`, 'text/plain'),
          name: `other${i}`,
        })),
      ];
      assert.equal(sixteen.length, 16);
      await assertStored(await streamInteraction(bridge, sixteen, { token }), file, { name: 'sixteen.png', mimeType: 'image/png' });
      const keysBefore = await bucket.keys();
      for (const extra of [
        { kind: 'field', name: 'one-more', value: 'a ninth field' } satisfies Part,
        { ...filePart(Buffer.from('a ninth file'), 'more.txt', 'text/plain'), name: 'one-more' },
      ]) {
        const res = await streamInteraction(bridge, [...sixteen, extra], { token });
        assert.deepEqual([res.status, res.body.code], [413, 413], JSON.stringify(res.body));
        assert.deepEqual(await bucket.keys(), keysBefore, 'the stored file was removed');
      }
    });

    test("a file name with the form encoding's %22, %0D and %0A gets them decoded and is stored safely; other escapes stay as sent", async () => {
      const text = Buffer.from('plain text\n');
      const sent = ['say%22hi%22%0D%0A.txt', '100%25 sure.txt'];
      const stored: Array<{ name: string; key: string }> = [];
      for (const name of sent) {
        const res = await streamInteraction(
          bridge,
          [
            jsonPart(attachmentRequest([{ contentLength: text.length }])),
            { ...filePart(text, name, 'text/plain'), disposition: `form-data; name="attachments"; filename="${name}"` },
          ],
          { token },
        );
        assert.equal(res.status, 202, JSON.stringify(res.body));
        const entry = (await conversation(res.body.conversationIdentifier)).entries.find((e: any) => e.entryId === res.body.id);
        const [attachment] = entry.attachments;
        stored.push({
          name: attachment.name,
          key: keyOf(attachment.url)
            .split('/')
            .pop()!
            .replace(/^0-[0-9a-f-]{36}-/, ''),
        });
        const downloaded = await download(attachment.downloadUrl);
        assert.equal(downloaded.status, 200);
        assert.match(downloaded.headers.get('content-disposition')!, /^attachment; filename=/);
      }
      // The quote is kept in the name (the download header escapes it); CR and LF go with the control characters.
      assert.deepEqual(stored, [
        { name: 'say"hi".txt', key: 'say_hi_.txt' },
        { name: '100%25 sure.txt', key: '100_25 sure.txt' },
      ]);
    });

    test('a client that disconnects in the middle of a file leaves no object behind', async () => {
      const keysBefore = await bucket.keys();
      const file = pngLike(8 * MB);
      const boundary = `----byoc-cut-${randomUUID()}`;
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="json"\r\n\r\n${JSON.stringify(attachmentRequest([{ contentLength: file.length }]))}\r\n--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="cut.png"\r\nContent-Type: image/png\r\n\r\n`;
      const socket = net.connect(Number(bridge.env.PORT), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        `POST /api/v1/interactions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nOrgId: ${LOCAL_ORG.orgId}\r\n` +
          `AuthorizationContext: ${LOCAL_ORG.authorizationContext}\r\nRequestId: ${randomUUID()}\r\n` +
          `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${head.length + file.length + 100}\r\n\r\n${head}`,
      );
      // Most of the file (a multipart upload is under way), then the connection goes.
      await new Promise<void>((resolve) => socket.write(file.subarray(0, 6 * MB), () => resolve()));
      socket.destroy();
      let keys = await bucket.keys();
      for (let i = 0; i < 100 && keys.length !== keysBefore.length; i++) {
        await new Promise((r) => setTimeout(r, 50));
        keys = await bucket.keys();
      }
      assert.deepEqual(keys, keysBefore);
    });

    test('the management API answers 404 for an unknown attachment and 401 without the admin key', async () => {
      const missing = await download(`${bridge.managementUrl}/api/attachments/${randomUUID()}`);
      assert.equal(missing.status, 404);
      assert.equal((await fetch(`${bridge.managementUrl}/api/attachments/${randomUUID()}`)).status, 401);
    });

    test('an attachment whose object was deleted from the bucket answers 404, not a server error', async () => {
      const file = pngLike(3000);
      const body = attachmentRequest([{ contentLength: file.length }]);
      const res = await streamInteraction(bridge, [jsonPart(body), filePart(file, 'gone.png')], { token });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const stored = (await conversation(res.body.conversationIdentifier)).entries.find((e: any) => e.entryId === body.interactions[0]!.id)
        .attachments[0];
      await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.bucket, Key: keyOf(stored.url) }));
      const gone = await download(stored.downloadUrl);
      assert.equal(gone.status, 404);
      const error = await gone.json();
      assert.equal(error.code, 'not_found');
      assert.match(error.message, /no longer in the bucket/);
    });

    test('text messages still work and carry no attachments', async () => {
      const res = await postInteraction(bridge, textMessage('no files'), { token });
      assert.equal(res.status, 202);
      const entry = (await conversation(res.body.conversationIdentifier)).entries.filter((e: any) => e.entryType === 'Message').at(-1);
      assert.equal(entry.attachments, undefined);
    });
  });
}

describe('attachments: memory while receiving a 25 MB file', { skip: !fs.existsSync('/proc/self/status') && 'needs /proc (Linux)' }, () => {
  let bridge: BridgeProcess;
  let token: string;
  before(async () => {
    bridge = await startBridge();
    token = await accessToken(bridge);
  });
  after(() => bridge.dispose());

  test('peak RSS grows by less than 40 MB', async (t) => {
    const upload = (size: number) => {
      const file = pngLike(size);
      return streamInteraction(bridge, [jsonPart(attachmentRequest([{ contentLength: size }])), filePart(file, 'big.png')], { token });
    };
    // The warm-up is a full-size upload: the server runs with 32 MB semi-spaces, and the first large body
    // grows V8's young generation to them once and for all. What is measured is what one more upload adds.
    assert.equal((await upload(LIMIT)).status, 202, 'warm-up');
    const status = `/proc/${bridge.pid()}/status`;
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(status, 'utf8'))![1]);
    fs.writeFileSync(`/proc/${bridge.pid()}/clear_refs`, '5'); // resets VmHWM (peak RSS) to the current RSS
    const rssBefore = kb('VmRSS');
    const res = await upload(LIMIT);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const growthMb = (kb('VmHWM') - rssBefore) / 1024;
    t.diagnostic(`peak RSS growth while receiving 25 MB: ${growthMb.toFixed(1)} MB`);
    assert.ok(growthMb < 40, `peak RSS grew by ${growthMb.toFixed(1)} MB`);
  });
});
