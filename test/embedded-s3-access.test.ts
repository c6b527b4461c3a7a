import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { accessToken } from './helpers/api-client.ts';
import {
  attachmentRequest,
  bucketOf,
  embeddedCredentialsOf,
  filePart,
  jsonPart,
  keyOf,
  sha256,
  streamInteraction,
} from './helpers/attachments.ts';
import { startBridge, storeKinds, type BridgeProcess } from './helpers/bridge-process.ts';

for (const store of storeKinds()) {
  describe(`the embedded S3 server refuses what is not signed with the data directory's credentials (${store})`, () => {
    let bridge: BridgeProcess;
    let key: string;
    before(async () => {
      bridge = await startBridge({ store });
      const token = await accessToken(bridge);
      const file = Buffer.from('private attachment');
      const res = await streamInteraction(
        bridge,
        [jsonPart(attachmentRequest([{ contentLength: file.length }])), filePart(file, 'a.txt', 'text/plain')],
        { token },
      );
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const { entries } = await bridge.management(`/api/conversations/${res.body.conversationIdentifier}`);
      const entry = entries.filter((e: any) => e.entryType === 'Message').at(-1);
      key = keyOf(entry.attachments[0].url);
    });
    after(() => bridge.dispose());

    const s3Url = (path: string) => `http://127.0.0.1:${bridge.env.S3_PORT}${path}`;

    test('the credentials are generated per data directory, readable by the owner only', () => {
      const file = `${bridge.dataDir}/s3-credentials.json`;
      assert.equal(fs.statSync(file).mode & 0o077, 0, 'no group or other permissions');
      const { accessKeyId, secretAccessKey } = embeddedCredentialsOf(bridge);
      assert.notEqual(accessKeyId, 'S3RVER');
      assert.ok(secretAccessKey.length >= 32);
    });

    test('anonymous list, read and overwrite are 403, and the object is unchanged', async () => {
      const bucket = bucketOf(bridge);
      const before = await bucket.rawGet(key);
      for (const [method, path, body] of [
        ['GET', '/byoc-attachments', undefined],
        ['GET', `/byoc-attachments/${key}`, undefined],
        ['HEAD', `/byoc-attachments/${key}`, undefined],
        ['PUT', `/byoc-attachments/${key}`, 'replaced'],
        ['DELETE', `/byoc-attachments/${key}`, undefined],
        ['GET', '/', undefined],
      ] as const) {
        const res = await fetch(s3Url(path), { method, body });
        assert.equal(res.status, 403, `${method} ${path}`);
        await res.arrayBuffer();
      }
      assert.equal(sha256((await bucket.rawGet(key)).bytes), sha256(before.bytes));
    });

    test("s3rver's default key, another key and a forged signature are 403", async () => {
      const { accessKeyId } = embeddedCredentialsOf(bridge);
      for (const credentials of [
        { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        { accessKeyId, secretAccessKey: 'not-the-secret' },
      ]) {
        const client = new S3Client({
          endpoint: s3Url(''),
          region: 'us-east-1',
          forcePathStyle: true,
          credentials,
          requestChecksumCalculation: 'WHEN_REQUIRED',
        });
        await assert.rejects(
          client.send(new PutObjectCommand({ Bucket: 'byoc-attachments', Key: key, Body: 'replaced' })),
          (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 403,
        );
        client.destroy();
      }
      const forged = await fetch(s3Url(`/byoc-attachments/${key}`), {
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${'0'.repeat(64)}`,
          'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      });
      assert.equal(forged.status, 403);
      await forged.arrayBuffer();
    });

    test('a client signing with the generated credentials lists and reads', async () => {
      const bucket = bucketOf(bridge);
      assert.ok((await bucket.keys()).includes(key));
      assert.equal((await bucket.rawGet(key)).bytes.toString(), 'private attachment');
    });
  });
}
