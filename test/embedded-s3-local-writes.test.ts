// The bridge writes attachments straight into its embedded S3 server's files (embedded-s3-store.ts,
// StagedPut) rather than sending itself a PutObject: what S3 clients read back must be what a PutObject
// would have left, and a write that fails must leave nothing and be counted like a failed PutObject.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { attachmentObjectKey } from '../src/attachments/object-keys.ts';
import { accessToken } from './helpers/api-client.ts';
import {
  attachmentRequest,
  bucketOf,
  filePart,
  jsonPart,
  keyOf,
  pngLike,
  sha256,
  streamInteraction,
  type Part,
} from './helpers/attachments.ts';
import { LOCAL_ORG, startBridge, type BridgeProcess } from './helpers/bridge-process.ts';
import { parsePrometheus, sampleValue } from './helpers/prometheus.ts';

const BUCKET = 'byoc-attachments';

describe('attachments written into the embedded S3 server from the bridge process', () => {
  let bridge: BridgeProcess;
  let token: string;
  let bucket: ReturnType<typeof bucketOf>;
  before(async () => {
    bridge = await startBridge();
    token = await accessToken(bridge);
    bucket = bucketOf(bridge);
  });
  after(() => bridge.dispose());

  const bucketDir = () => path.join(bridge.dataDir, 's3', BUCKET);
  /** s3rver's files for `key`, by their suffix (object, object.md5, metadata.json). */
  const filesOf = (key: string) => {
    const dir = path.join(bucketDir(), path.dirname(key));
    const prefix = `${path.basename(key)}._S3rver_`;
    return fs
      .readdirSync(dir)
      .filter((f) => f.startsWith(prefix))
      .map((f) => f.slice(prefix.length))
      .sort();
  };
  const stagedFiles = () =>
    fs.existsSync(path.join(bucketDir(), '._S3rver_uploads'))
      ? fs.readdirSync(path.join(bucketDir(), '._S3rver_uploads')).filter((f) => f.startsWith('put-'))
      : [];
  const putObjectErrors = async () => {
    const scrape = parsePrometheus(await (await fetch(`${bridge.managementUrl}/metrics`)).text());
    return sampleValue(scrape, 'byoc_s3_errors_total', { operation: 'PutObject' }) ?? 0;
  };

  /** Reads an accepted attachment back through the embedded server and compares it with a PutObject of the same file. */
  async function assertAsPutObject(res: { status: number; body: any }, sent: Buffer) {
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const entry = (await bridge.management(`/api/conversations/${res.body.conversationIdentifier}`)).entries.find(
      (e: any) => e.entryId === res.body.id,
    );
    const key = keyOf(entry.attachments[0].url);
    const get = await bucket.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = Buffer.from(await get.Body!.transformToByteArray());
    assert.equal(sha256(bytes), sha256(sent), 'byte for byte');
    const head = await bucket.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ContentType, 'image/png');
    assert.equal(head.ContentLength, sent.length);
    assert.deepEqual(head.Metadata, {
      'original-name': 'photo.png',
      'interaction-id': encodeURIComponent(res.body.id),
      sha256: sha256(sent),
    });
    assert.match(head.ETag ?? '', /^"[0-9a-f]{32}-1"$/, 'an ETag of the embedded server, no MD5');
    assert.equal(get.ETag, head.ETag, 'GET and HEAD give the same ETag');
    assert.equal(get.ContentType, head.ContentType);
    assert.deepEqual(get.Metadata, head.Metadata);

    // The same file through a real PutObject to the same server: the same answers, the same files.
    const putKey = `${key}-put`;
    await bucket.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: putKey,
        Body: sent,
        ContentLength: sent.length,
        ContentType: head.ContentType,
        Metadata: head.Metadata,
      }),
    );
    const putHead = await bucket.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: putKey }));
    assert.deepEqual(
      { type: head.ContentType, length: head.ContentLength, metadata: head.Metadata },
      { type: putHead.ContentType, length: putHead.ContentLength, metadata: putHead.Metadata },
    );
    assert.match(putHead.ETag ?? '', /^"[0-9a-f]{32}-1"$/);
    assert.deepEqual(filesOf(key), filesOf(putKey));
    const metadataFile = (k: string) => JSON.parse(fs.readFileSync(path.join(bucketDir(), `${k}._S3rver_metadata.json`), 'utf8'));
    assert.deepEqual(metadataFile(key), metadataFile(putKey));
    await bucket.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: putKey })).then((o) => o.Body!.transformToByteArray());
    assert.deepEqual(stagedFiles(), [], 'no staging file is left');
    return key;
  }

  test('a file sent after the json part reads back as a PutObject of it would', async () => {
    const file = pngLike(3 * 1024 * 1024 + 17);
    const res = await streamInteraction(
      bridge,
      [jsonPart(attachmentRequest([{ contentLength: file.length }])), filePart(file, 'photo.png')],
      {
        token,
      },
    );
    await assertAsPutObject(res, file);
  });

  test('a file sent before the json part too, written once under its final key (no unclaimed object left)', async () => {
    const file = pngLike(2 * 1024 * 1024 + 5);
    const parts: Part[] = [filePart(file, 'photo.png'), jsonPart(attachmentRequest([{ contentLength: file.length }]))];
    await assertAsPutObject(await streamInteraction(bridge, parts, { token }), file);
    assert.ok(!(await bucket.keys()).some((k) => k.includes('/unclaimed/')), 'nothing under an unclaimed key');
  });

  test('a write that fails leaves no staging file and no object, and counts as a failed PutObject', async () => {
    const request = attachmentRequest([{ contentLength: 1024 * 1024 }]);
    const interactionId = request.interactions[0]!.id;
    // The directory the object would go to is taken by a file: the bytes are staged, then the rename cannot happen.
    const entryDir = attachmentObjectKey({
      orgId: LOCAL_ORG.orgId,
      channelAddressIdentifier: LOCAL_ORG.channel,
      endUserClientIdentifier: LOCAL_ORG.endUser,
      entryId: interactionId,
      attachmentIndex: 0,
      attachmentId: 'x',
      fileName: 'x',
    })
      .split('/')
      .slice(0, 3)
      .join('/');
    fs.mkdirSync(path.dirname(path.join(bucketDir(), entryDir)), { recursive: true });
    fs.writeFileSync(path.join(bucketDir(), entryDir), 'in the way');
    const errorsBefore = await putObjectErrors();
    const keysBefore = await bucket.keys();

    const res = await streamInteraction(bridge, [jsonPart(request), filePart(pngLike(1024 * 1024), 'photo.png')], { token });
    assert.ok(res.status >= 500, `a storage failure is the server's: ${res.status} ${JSON.stringify(res.body)}`);
    assert.deepEqual(stagedFiles(), [], 'the staging file is removed');
    assert.deepEqual(await bucket.keys(), keysBefore, 'no object');
    assert.equal(await putObjectErrors(), errorsBefore + 1, 'counted once, as a PutObject');

    // The same path freed, the same request goes through.
    fs.rmSync(path.join(bucketDir(), entryDir));
    const retried = await streamInteraction(bridge, [jsonPart(request), filePart(pngLike(1024 * 1024), 'photo.png')], { token });
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
  });
});
