import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Logger } from 'pino';

/** S3's smallest multipart part (the last one excepted): files up to this size go in one PutObject. */
const PART_BYTES = 5 * 1024 * 1024;

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  forcePathStyle: boolean;
  /** Explicit credentials (the embedded server); otherwise the SDK's standard chain (AWS_ACCESS_KEY_ID, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
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
      // Nagle's algorithm held the last segment of each PutObject body until the server's delayed ACK:
      // about 15 ms per upload, measured against the embedded server.
      requestHandler: {
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: 50, noDelay: true }),
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 50, noDelay: true }),
      },
      // With the SDK's default (WHEN_SUPPORTED), a streamed PutObject is sent with aws-chunked framing and
      // trailing checksums; servers that do not understand it (s3rver) store the framing as the object's bytes.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Creates the bucket when it does not exist; where the credentials may not look or create, assumes it does. */
  async ensureBucket(log: Logger): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      const status = statusOf(err);
      if (status !== 404) {
        if (status === 403) return log.warn({ bucket: this.bucket }, 'not allowed to check the attachment bucket; assuming it exists');
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
   * Starts writing `body` into `key`. Nothing becomes visible before `body` has ended and the upload has
   * completed: a file of up to 5 MB is sent in one PutObject once it is whole, a larger one as a multipart
   * upload of 5 MB parts (one part buffered, one in flight), which the server assembles only on
   * CompleteMultipartUpload. So `abort` (before `body` ends) can never leave an object, complete or
   * partial, behind, which an aborted streaming PutObject can on some servers (s3rver keeps the bytes it got).
   */
  startUpload(key: string, body: Readable, description: ObjectDescription): { done: Promise<unknown>; abort: () => Promise<void> } {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: description.contentType, Metadata: description.metadata },
      partSize: PART_BYTES,
      queueSize: 1,
      leavePartsOnError: false,
    });
    const done = upload.done();
    done.catch(() => {});
    return { done, abort: () => upload.abort() };
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
