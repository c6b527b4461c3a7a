import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { LocalPut } from './embedded-s3-store.ts';

/** An object being written, its bytes given in order: it exists only after `complete`, never after `abort`. */
export interface ObjectUpload {
  /** Settles when the bytes have been taken (backpressure), or the upload has failed. */
  write(chunk: Buffer): Promise<void>;
  /**
   * Makes the bytes an object: by default the key and description the upload started with; `final` gives
   * what is known only once every byte has been checked (the SHA-256, the key of a claimed file). After a
   * failure, `abort` removes whatever of it was made.
   */
  complete(final?: FinalObject): Promise<void>;
  /** Before `complete`, or after it failed: leaves no object. */
  abort(): Promise<void>;
}

export interface FinalObject {
  key: string;
  description: ObjectDescription;
}

/** S3's smallest part but the last: what an unsized upload holds in memory at most (plus one chunk). */
export const UNSIZED_PART_BYTES = 5 * 1024 * 1024;

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  forcePathStyle: boolean;
  /** Explicit credentials (the embedded server); otherwise the SDK's standard chain (AWS_ACCESS_KEY_ID, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Told of every S3 request that failed, with its command name (for the metrics). */
  onError?: (operation: string) => void;
  /**
   * Set when the bucket is the embedded server's, in this process: uploads are written straight into its
   * files (embedded-s3-store.ts), not sent to it over HTTP. Their failures count as PutObject's.
   */
  startLocalPut?: () => LocalPut;
}

export interface ObjectDescription {
  contentType: string;
  /** User metadata; values must be ASCII, so callers encode what may not be. */
  metadata: Record<string, string>;
}

// The SDK versions are pinned to ones that support Node 20 (see docs/attachments.md); its notice that later
// releases will need Node 22 would otherwise be printed on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The bucket where attachments live, over any S3 API. */
export class AttachmentStorage {
  readonly client: S3Client;
  readonly bucket: string;

  constructor(readonly settings: S3Settings) {
    this.bucket = settings.bucket;
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      // Nagle's algorithm held the last segment of each streamed request body until the server's delayed
      // ACK: about 15 ms per upload, measured against the embedded server.
      requestHandler: {
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: 50, noDelay: true }),
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 50, noDelay: true }),
      },
      // With the SDK's default (WHEN_SUPPORTED), a streamed PutObject is sent with aws-chunked framing and
      // trailing checksums; servers that do not understand it (s3rver) store the framing as the object's bytes.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const onError = settings.onError;
    if (onError) {
      this.client.middlewareStack.add(
        (next, context) => async (args) => {
          try {
            return await next(args);
          } catch (err) {
            // A missing bucket or object on a HEAD is an answer, not a failure (ensureBucket relies on it).
            const command = context.commandName?.replace(/Command$/, '') ?? 'unknown';
            if (!(command.startsWith('Head') && statusOf(err) === 404)) onError(command);
            throw err;
          }
        },
        { step: 'initialize', name: 'countFailures' },
      );
    }
  }

  /** Creates the bucket when it does not exist; where the credentials may not look or create, assumes it does. */
  async ensureBucket(log: Logger): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      const status = statusOf(err);
      if (status !== 404) {
        if (status === 403) {
          log.warn({ bucket: this.bucket }, 'not allowed to check the attachment bucket; assuming it exists');
          return;
        }
        throw err;
      }
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      log.info({ bucket: this.bucket }, 'created the attachment bucket');
    } catch (err) {
      const name = (err as Error).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
  }

  /**
   * Starts writing exactly `contentLength` bytes into `key`: one PutObject whose body is streamed as it is
   * written, so nothing is buffered. The last chunk written is held back until `complete`, so the server
   * has the whole body, and stores the object, only once the caller has checked every byte; `abort` cuts
   * the request short, and S3 stores nothing of a PutObject that did not get its declared Content-Length.
   */
  startUpload(key: string, contentLength: number, description: ObjectDescription): ObjectUpload {
    if (this.settings.startLocalPut) return this.localUpload(this.settings.startLocalPut(), { key, description });
    const body = new PassThrough();
    const stop = new AbortController();
    const sent = this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: contentLength,
        ContentType: description.contentType,
        Metadata: description.metadata,
      }),
      { abortSignal: stop.signal },
    );
    sent.catch(() => {});
    let held: Buffer | undefined;
    return {
      write: async (chunk) => {
        const ready = held;
        held = chunk;
        if (ready && !body.write(ready)) await Promise.race([once(body, 'drain'), sent]);
      },
      complete: async (final) => {
        body.end(held);
        held = undefined;
        await sent;
        if (final) await this.describe(key, final);
      },
      abort: async () => {
        held = undefined;
        stop.abort();
        body.destroy();
        await sent.catch(() => {});
        // For servers that keep what they received of a PutObject cut short (a stock s3rver as S3_ENDPOINT;
        // the embedded server does not): the key is this upload's own, so deleting it removes nothing else.
        await this.delete(key);
      },
    };
  }

  /**
   * Starts writing an object whose size is not known yet (a file that arrived before the request that
   * declares it): a multipart upload, which holds up to one part (5 MiB) in memory while it is sent.
   */
  async startUnsizedUpload(key: string, description: ObjectDescription): Promise<ObjectUpload> {
    if (this.settings.startLocalPut) return this.localUpload(this.settings.startLocalPut(), { key, description });
    const target = { Bucket: this.bucket, Key: key };
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ ...target, ContentType: description.contentType, Metadata: description.metadata }),
    );
    const parts: Array<{ ETag: string | undefined; PartNumber: number }> = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      const Body = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      const PartNumber = parts.length + 1;
      const { ETag } = await this.client.send(new UploadPartCommand({ ...target, UploadId, PartNumber, Body, ContentLength: Body.length }));
      parts.push({ ETag, PartNumber });
    };
    let completed = false;
    return {
      write: async (chunk) => {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= UNSIZED_PART_BYTES) await flush();
      },
      complete: async (final) => {
        if (pendingBytes > 0 || parts.length === 0) await flush();
        await this.client.send(new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }));
        completed = true;
        if (final) await this.describe(key, final);
      },
      abort: async () => {
        // Completed, then refused (its final step failed): the object is this upload's own.
        if (completed) return this.delete(key);
        pending = [];
        await this.client.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch((err: unknown) => {
          if (!['MethodNotAllowed', 'NotImplemented'].includes((err as Error).name)) throw err;
        });
      },
    };
  }

  /** Gives a just completed object its final key and description. */
  private async describe(key: string, final: FinalObject): Promise<void> {
    if (final.key === key) await this.replaceMetadata(key, final.description);
    else await this.move(key, final.key, final.description);
  }

  /**
   * An upload into the embedded server's files. A failure is counted once, as the PutObject it stands for
   * would have been; the put itself leaves nothing behind (no staging file, no object).
   */
  private localUpload(put: LocalPut, start: FinalObject): ObjectUpload {
    let failed = false;
    const counted = async (step: Promise<void>) => {
      try {
        await step;
      } catch (err) {
        if (!failed) this.settings.onError?.('PutObject');
        failed = true;
        throw err;
      }
    };
    return {
      write: (chunk) => counted(put.write(chunk)),
      complete: (final = start) => counted(put.complete(final.key, final.description)),
      abort: () => put.abort(),
    };
  }

  /** Gives an object a new key and metadata: a server-side copy (no bytes travel through the bridge), then a delete. */
  async move(from: string, to: string, description: ObjectDescription): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: to,
        CopySource: `${this.bucket}/${encodeURIComponent(from).replace(/%2F/g, '/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: description.contentType,
        Metadata: description.metadata,
      }),
    );
    await this.delete(from);
  }

  /** Replaces an object's metadata in place (a server-side copy onto itself: no bytes travel). */
  async replaceMetadata(key: string, description: ObjectDescription): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: key,
        CopySource: `${this.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: description.contentType,
        Metadata: description.metadata,
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async open(key: string): Promise<{ body: Readable; contentLength?: number; contentType?: string }> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return { body: out.Body as Readable, contentLength: out.ContentLength, contentType: out.ContentType };
  }

  /** As `open`, but a missing object (deleted from the bucket behind the bridge's back) is `undefined`. */
  async openIfPresent(key: string): Promise<Awaited<ReturnType<AttachmentStorage['open']>> | undefined> {
    try {
      return await this.open(key);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  objectUrl(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  close(): void {
    this.client.destroy();
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}
