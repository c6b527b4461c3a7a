import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { accessToken } from './helpers/api-client.ts';
import { attachmentRequest, bucketAt, filePart, jsonPart, keyOf, pngLike, sha256, streamInteraction } from './helpers/attachments.ts';
import { freePort, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { startEmbeddedS3 } from '../src/attachments/embedded-s3.ts';

/** A second S3-compatible server, started by the test on its own port: "any S3 API" from the bridge's view. */
async function startOtherS3() {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-other-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: await freePort(), directory, silent: true });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

describe('attachments on an S3 endpoint given by environment variables', () => {
  let other: Awaited<ReturnType<typeof startOtherS3>>;
  let bridge: BridgeProcess;
  before(async () => {
    other = await startOtherS3();
    bridge = await startBridge({
      env: {
        S3_ENDPOINT: other.endpoint,
        S3_BUCKET: 'partner-uploads',
        S3_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      },
    });
  });
  // Both may be missing when the start failed; the other server must go anyway, or the file never ends.
  after(async () => {
    await (bridge as BridgeProcess | undefined)?.dispose();
    await (other as typeof other | undefined)?.close();
  });

  test('the bucket is created, and files go there byte-exact through the same code path', async () => {
    assert.match(bridge.output(), new RegExp(`Attachments +S3 ${other.endpoint} bucket partner-uploads`));
    const bucket = bucketAt(other.endpoint, 'partner-uploads');
    assert.deepEqual(await bucket.keys(), [], 'created empty at start');

    const token = await accessToken(bridge);
    const file = pngLike(1024 * 1024 + 7);
    const res = await streamInteraction(
      bridge,
      [jsonPart(attachmentRequest([{ contentLength: file.length }])), filePart(file, 'elsewhere.png')],
      { token },
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const { entries } = await bridge.management(`/api/conversations/${res.body.conversationIdentifier}`);
    const entry = entries.filter((e: any) => e.entryType === 'Message').at(-1);
    const [attachment] = entry.attachments;
    assert.match(attachment.url, /^s3:\/\/partner-uploads\//);
    assert.deepEqual(await bucket.keys(), [keyOf(attachment.url)]);
    const raw = await bucket.rawGet(keyOf(attachment.url));
    assert.equal(sha256(raw.bytes), sha256(file));
    const downloaded = await fetch(attachment.downloadUrl, { headers: { authorization: `Bearer ${bridge.adminKey}` } });
    assert.equal(sha256(Buffer.from(await downloaded.arrayBuffer())), sha256(file));

    const refused = await streamInteraction(bridge, [jsonPart(attachmentRequest([{ contentLength: 2 * file.length }])), filePart(file)], {
      token,
    });
    assert.equal(refused.body.code, 10051);
    assert.deepEqual(await bucket.keys(), [keyOf(attachment.url)], 'the refused file left nothing');
  });
});

describe('the raw byte comparison the attachment tests rely on', () => {
  let other: Awaited<ReturnType<typeof startOtherS3>>;
  before(async () => {
    other = await startOtherS3();
  });
  after(() => other.close());

  test('detects the aws-chunked framing s3rver stores for a streamed PutObject with the SDK defaults', async () => {
    const bucket = bucketAt(other.endpoint, 'probe');
    await bucket.client.send(new CreateBucketCommand({ Bucket: 'probe' }));
    const sent = pngLike(200_000);
    const put = (client: S3Client, key: string) =>
      client.send(new PutObjectCommand({ Bucket: 'probe', Key: key, Body: Readable.from([sent]), ContentLength: sent.length }));
    const withDefaults = new S3Client({
      endpoint: other.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await put(withDefaults, 'defaults');
    await put(bucket.client, 'when-required');
    const corrupted = await bucket.rawGet('defaults');
    assert.notEqual(sha256(corrupted.bytes), sha256(sent), 'SDK defaults: the stored bytes differ from what was sent');
    assert.match(corrupted.bytes.subarray(0, 64).toString('latin1'), /^[0-9a-f]+\r\n/, 'they start with an aws-chunked chunk header');
    assert.equal(sha256((await bucket.rawGet('when-required')).bytes), sha256(sent), 'WHEN_REQUIRED: stored exactly');
    withDefaults.destroy();
  });
});

describe('the embedded S3 server', () => {
  test('a PutObject cut short leaves no object and no staging file; a complete one is stored, with an ETag that is no MD5', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-embedded-s3-'));
    const s3 = await startEmbeddedS3({
      directory,
      credentialsFile: path.join(directory, 'credentials.json'),
      port: await freePort(),
      bucket: 'atomic',
    });
    try {
      const bucket = bucketAt(s3.endpoint, 'atomic', s3.credentials);
      const file = pngLike(2 * 1024 * 1024);
      const body = new PassThrough();
      const stop = new AbortController();
      const put = bucket.client.send(new PutObjectCommand({ Bucket: 'atomic', Key: 'cut', Body: body, ContentLength: file.length }), {
        abortSignal: stop.signal,
      });
      await new Promise<void>((resolve) => body.write(file.subarray(0, file.length / 2), () => resolve()));
      const uploads = path.join(directory, 'atomic', '._S3rver_uploads');
      for (let i = 0; i < 100 && !fs.existsSync(uploads); i++) await new Promise((r) => setTimeout(r, 20));
      stop.abort();
      await assert.rejects(put);
      for (let i = 0; i < 100 && fs.readdirSync(uploads).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(fs.readdirSync(uploads), [], 'the staging file is removed');
      assert.deepEqual(await bucket.keys(), [], 'no object, complete or partial');

      const { ETag } = await bucket.client.send(
        new PutObjectCommand({ Bucket: 'atomic', Key: 'whole', Body: file, ContentLength: file.length }),
      );
      assert.equal(sha256((await bucket.rawGet('whole')).bytes), sha256(file));
      assert.match(ETag ?? '', /^"[0-9a-f]{32}-1"$/);
      assert.notEqual(ETag, `"${createHash('md5').update(file).digest('hex')}-1"`);
    } finally {
      await s3.close();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  test('the sweep removes the parts of aborted multipart uploads, which s3rver keeps', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'byoc-embedded-s3-'));
    const s3 = await startEmbeddedS3({
      directory,
      credentialsFile: path.join(directory, 'credentials.json'),
      port: await freePort(),
      bucket: 'sweep',
    });
    try {
      const bucket = bucketAt(s3.endpoint, 'sweep', s3.credentials);
      const { UploadId } = await bucket.client.send(new CreateMultipartUploadCommand({ Bucket: 'sweep', Key: 'refused' }));
      const part = pngLike(5 * 1024 * 1024);
      await bucket.client.send(
        new UploadPartCommand({ Bucket: 'sweep', Key: 'refused', UploadId, PartNumber: 1, Body: part, ContentLength: part.length }),
      );
      await assert.rejects(
        bucket.client.send(new AbortMultipartUploadCommand({ Bucket: 'sweep', Key: 'refused', UploadId })),
        { name: 'MethodNotAllowed' },
        's3rver does not implement AbortMultipartUpload',
      );
      const uploads = path.join(directory, 'sweep', '._S3rver_uploads');
      assert.deepEqual(fs.readdirSync(uploads), [UploadId], 'the aborted upload is still on disk');
      assert.deepEqual(await bucket.keys(), [], 'but not an object');
      assert.equal(await s3.sweepIncompleteUploads(60 * 60 * 1000), 0, 'a recent upload is left alone');
      assert.equal(await s3.sweepIncompleteUploads(0), 1);
      assert.deepEqual(fs.readdirSync(uploads), []);
    } finally {
      await s3.close();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
