import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** How far a request's x-amz-date may be from this clock, as AWS allows: bounds the replay of a captured request. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * Whether a request to the embedded S3 server carries a valid AWS Signature Version 4 (Authorization
 * header) made with `credentials`. The signature is computed again with the SDK's own signer over the
 * headers the client says it signed and compared in constant time. The payload is taken at the hash the
 * client declared (`x-amz-content-sha256`), as S3 does before it reads the body.
 *
 * s3rver accepts anonymous requests and does not check V4 signatures at all (only that the key id is
 * known), so this is what keeps the bucket closed to other local users.
 */
export async function hasValidSignature(
  req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>,
  credentials: S3Credentials,
  now = Date.now(),
): Promise<boolean> {
  const match = AUTHORIZATION.exec(req.headers.authorization ?? '');
  if (!match) return false;
  const [, accessKeyId, , region, signedHeaderList, signature] = match as unknown as [string, string, string, string, string, string];
  if (accessKeyId !== credentials.accessKeyId) return false;
  const amzDate = req.headers['x-amz-date'];
  const signingDate = typeof amzDate === 'string' ? parseAmzDate(amzDate) : undefined;
  if (!signingDate || Math.abs(now - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) return false;
  if (typeof req.headers['x-amz-content-sha256'] !== 'string') return false;

  const signedHeaders = signedHeaderList.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return false;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(req.url ?? '/', 'http://s3.invalid');
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  // The path is taken as the client sent it (already URI-encoded), as S3's signers do.
  const signer = new SignatureV4({ credentials, region, service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
  const expected = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: '', path: url.pathname, query, headers },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expectedSignature = /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1] ?? '';
  return expectedSignature.length === signature.length && timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature));
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** The hash the signer needs (SHA-256, or HMAC-SHA256 with a key), over node:crypto. */
class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset() {
    /* one hash per use */
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
