import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3Credentials } from '../../src/attachments/s3-request-signature.ts';
import { LOCAL_ORG, type BridgeProcess } from './bridge-process.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export type Part =
  | { kind: 'field'; name: string; value: string; contentType?: string }
  | { kind: 'file'; name: string; filename: string; contentType?: string; content: Buffer; disposition?: string };

export const jsonPart = (body: unknown): Part => ({
  kind: 'field',
  name: 'json',
  value: JSON.stringify(body),
  contentType: 'application/json',
});
/** The `json` part sent as a file part, as `curl -F json=@body.json` and FormData with a Blob send it. */
export const jsonFilePart = (body: unknown, filename = 'body.json', contentType = 'application/json'): Part => ({
  kind: 'file',
  name: 'json',
  filename,
  contentType,
  content: Buffer.from(JSON.stringify(body)),
});
export const filePart = (
  content: Buffer,
  filename = 'file.bin',
  contentType: string | undefined = 'application/octet-stream',
): Extract<Part, { kind: 'file' }> => ({
  kind: 'file',
  name: 'attachments',
  filename,
  contentType,
  content,
});

export const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A PNG's chunk structure (signature, IHDR, one IDAT of random bytes, IEND) of exactly `size` bytes. */
export function pngLike(size: number): Buffer {
  const head = Buffer.from('89504e470d0a1a0a0000000d494844520000001000000010080200000090916836', 'hex');
  const tail = Buffer.from('0000000049454e44ae426082', 'hex');
  const dataLength = size - head.length - 12 - tail.length;
  const idat = Buffer.alloc(8);
  idat.writeUInt32BE(dataLength, 0);
  idat.write('IDAT', 4, 'latin1');
  return Buffer.concat([head, idat, randomBytes(dataLength), Buffer.alloc(4), tail]);
}

export function attachmentRequest(interactions: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  return {
    to: LOCAL_ORG.channel,
    from: LOCAL_ORG.endUser,
    ...extra,
    interactions: interactions.map((i) => ({
      timestamp: Date.now(),
      interactionType: 'AttachmentInteraction',
      id: randomUUID(),
      attachmentIndex: 0,
      ...i,
    })),
  };
}

export interface UploadResult {
  status: number;
  body: any;
  headers: http.IncomingHttpHeaders;
  /** Request body bytes handed to the socket before the answer arrived, and the whole body's size. */
  bytesSent: number;
  totalBytes: number;
}

/**
 * Streams a multipart interaction request (chunked transfer encoding, 64 KB writes with backpressure) and
 * stops sending as soon as the answer arrives, so a test can see that a refusal did not wait for the rest.
 */
export function streamInteraction(
  bridge: BridgeProcess,
  parts: Part[],
  options: { token: string; requestId?: string; headers?: Record<string, string> },
): Promise<UploadResult> {
  const boundary = `----byoc-upload-${randomUUID()}`;
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      part.kind === 'file'
        ? (part.disposition ?? `form-data; name="${part.name}"; filename="${part.filename}"`)
        : `form-data; name="${part.name}"`;
    const type = part.contentType ? `Content-Type: ${part.contentType}\r\n` : '';
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    pieces.push(part.kind === 'file' ? part.content : Buffer.from(part.value));
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  const totalBytes = pieces.reduce((n, p) => n + p.length, 0);
  const url = new URL(`${bridge.baseUrl}/api/v1/interactions`);

  return new Promise((resolve, reject) => {
    // An object, not a `let`: the flag is set in a callback, which the compiler's narrowing does not see.
    const state = { answered: false };
    let bytesSent = 0;
    const req = http.request({
      host: '127.0.0.1',
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: {
        Authorization: `Bearer ${options.token}`,
        OrgId: LOCAL_ORG.orgId,
        AuthorizationContext: LOCAL_ORG.authorizationContext,
        RequestId: options.requestId ?? randomUUID(),
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        ...options.headers,
      },
    });
    req.on('response', (res) => {
      state.answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, body, headers: res.headers, bytesSent, totalBytes });
      });
      res.on('error', reject);
    });
    // Writing after the server answered and closed fails with EPIPE/ECONNRESET: expected, not an error.
    req.on('error', (err) => {
      if (!state.answered) reject(err);
    });
    (async () => {
      for (const piece of pieces) {
        for (let offset = 0; offset < piece.length && !state.answered; offset += 65536) {
          const chunk = piece.subarray(offset, offset + 65536);
          bytesSent += chunk.length;
          if (!req.write(chunk)) {
            await new Promise<void>((resolve) => {
              const done = () => {
                req.off('drain', done).off('close', done);
                resolve();
              };
              req.on('drain', done).on('close', done);
            });
          }
          if (req.destroyed) return;
          // Let the answer be read between chunks: a server discarding the rest as fast as it comes makes
          // every write succeed at once, and a loop that never yields would not see an early answer.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      if (!state.answered) req.end();
    })().catch(reject);
  });
}

/** The credentials the bridge generated for its embedded S3 server. */
export const embeddedCredentialsOf = (bridge: BridgeProcess): S3Credentials =>
  JSON.parse(fs.readFileSync(path.join(bridge.dataDir, 's3-credentials.json'), 'utf8')) as S3Credentials;

/** The bridge's embedded bucket as an S3 client sees it. */
export const bucketOf = (bridge: BridgeProcess) =>
  bucketAt(`http://127.0.0.1:${bridge.env.S3_PORT}`, 'byoc-attachments', embeddedCredentialsOf(bridge));

/** A bucket on an S3-compatible server; s3rver's default credentials unless others are given. */
export function bucketAt(
  endpoint: string,
  bucket: string,
  credentials: S3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
) {
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    bucket,
    client,
    async keys(): Promise<string[]> {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    /** The stored bytes, read with checksum validation off: no SDK decoding between the object and the test. */
    async rawGet(key: string) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { contentType: object.ContentType, metadata: object.Metadata, bytes: Buffer.from(await object.Body!.transformToByteArray()) };
    },
  };
}

/** `s3://bucket/key` → key. */
export const keyOf = (url: string) => url.replace(/^s3:\/\/[^/]+\//, '');
