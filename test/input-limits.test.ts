import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { hasValidSignature } from '../src/attachments/s3-request-signature.ts';
import { ApiError } from '../src/contract/api-error.ts';
import { checkJsonLimits, MAX_JSON_DEPTH } from '../src/contract/json-limits.ts';
import { hasValidChecksum, salesforceIdChecksum } from '../src/contract/salesforce-ids.ts';
import { isStoreInputError } from '../src/store/input-errors.ts';

const nest = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [v];
  return v;
};
const refusal = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    return err instanceof ApiError ? [err.status, err.code] : err;
  }
  return undefined;
};

test('JSON limits: depth up to MAX_JSON_DEPTH passes, one more and 100,000 are 400 10089; NUL in a key or string is refused', () => {
  assert.equal(
    refusal(() => checkJsonLimits(nest(MAX_JSON_DEPTH))),
    undefined,
  );
  assert.deepEqual(
    refusal(() => checkJsonLimits(nest(MAX_JSON_DEPTH + 1))),
    [400, 10089],
  );
  assert.deepEqual(
    refusal(() => checkJsonLimits(nest(100_000))),
    [400, 10089],
  );
  assert.deepEqual(
    refusal(() => checkJsonLimits({ a: ['ok', 'n\u0000'] })),
    [400, 10089],
  );
  assert.deepEqual(
    refusal(() => checkJsonLimits({ 'k\u0000': 1 })),
    [400, 10089],
  );
  for (const fine of [null, 1e308, 'text', { a: [1, { b: 'ü\u0001' }] }, undefined])
    assert.equal(
      refusal(() => checkJsonLimits(fine)),
      undefined,
    );
});

test('Salesforce id checksum: the suffix encodes the upper-case positions; a wrong suffix is refused, its case is not', () => {
  assert.equal(salesforceIdChecksum('00D5g000004Byoc'), 'EAC');
  assert.equal(salesforceIdChecksum('001000000000000'), 'AAA');
  assert.equal(salesforceIdChecksum('ZZZZZZZZZZZZZZZ'), '555');
  assert.equal(hasValidChecksum('00D5g000004ByocEAC'), true);
  assert.equal(hasValidChecksum('00D5g000004Byoceac'), true);
  assert.equal(hasValidChecksum('00D5g000004Byoc'), true);
  assert.equal(hasValidChecksum('00D5g000004ByocEAD'), false);
  assert.equal(hasValidChecksum('00D5g000004ByOcEAC'), false, 'another case in the first 15 changes the checksum');
  assert.equal(hasValidChecksum('00D5g000004Byoc!!!'), false);
  assert.equal(hasValidChecksum('00D5g000004By'), false);
});

test("store input errors: PostgreSQL's class 22 only", () => {
  assert.equal(isStoreInputError({ code: '22P05', severity: 'ERROR' }), true, 'untranslatable character (NUL)');
  assert.equal(isStoreInputError({ code: '22003', severity: 'ERROR' }), true, 'numeric value out of range');
  assert.equal(isStoreInputError({ code: '23505', severity: 'ERROR' }), false, 'a unique violation is not the input');
  assert.equal(isStoreInputError({ code: '22003' }), false, 'not from the database');
  assert.equal(isStoreInputError(new Error('x')), false);
  assert.equal(isStoreInputError(null), false);
});

/** The request the AWS SDK would send, as the server would see it. */
type SeenRequest = Pick<IncomingMessage, 'method' | 'url' | 'headers'>;

async function signedRequest(credentials: { accessKeyId: string; secretAccessKey: string }, key: string): Promise<SeenRequest> {
  let seen: SeenRequest | undefined;
  const client = new S3Client({ endpoint: 'http://127.0.0.1:4568', region: 'us-east-1', forcePathStyle: true, credentials });
  client.middlewareStack.add(
    () => (args) => {
      const r = args.request as { method: string; path: string; query: Record<string, string>; headers: Record<string, string> };
      const query = new URLSearchParams(r.query).toString();
      const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
      seen = { method: r.method, url: `${r.path}${query ? `?${query}` : ''}`, headers };
      return Promise.resolve({ response: {}, output: {} } as never);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'capture' },
  );
  await client.send(new GetObjectCommand({ Bucket: 'b', Key: key })).catch(() => undefined);
  client.destroy();
  return seen!;
}

test('S3 signatures: what the SDK signs with the key passes; another secret, a changed path, an old date and no signature do not', async () => {
  const credentials = { accessKeyId: 'BYOCKEY', secretAccessKey: 'secret-secret-secret' };
  const req = await signedRequest(credentials, 'org/conv/ünïcode name.txt');
  assert.equal(await hasValidSignature(req, credentials), true);
  assert.equal(await hasValidSignature(req, { ...credentials, secretAccessKey: 'other' }), false);
  assert.equal(await hasValidSignature(req, { ...credentials, accessKeyId: 'OTHER' }), false);
  assert.equal(await hasValidSignature({ ...req, url: req.url!.replace('conv', 'conw') }, credentials), false);
  assert.equal(await hasValidSignature(req, credentials, Date.now() + 16 * 60 * 1000), false, 'outside the 15-minute window');
  assert.equal(await hasValidSignature({ ...req, headers: {} }, credentials), false);
});
