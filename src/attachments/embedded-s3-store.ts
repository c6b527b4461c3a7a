import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type S3rver from 's3rver';

/** What s3rver 3.7's filesystem store is given to write (lib/models/object.js): a request body, or the parts of a multipart upload. */
interface S3rverObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Record<string, string>;
}

/** The methods of s3rver 3.7's filesystem store (lib/stores/filesystem.js) that the store below uses or replaces. */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  /** `md5` is what the store keeps as the object's ETag. */
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: number | string, content: Readable): Promise<{ size: number; md5: string }>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: Record<string, string> | null,
  ): Promise<Record<string, string>>;
}

const FilesystemStore = createRequire(import.meta.url)('s3rver/lib/stores/filesystem') as new (directory: string) => FilesystemStore;

/**
 * s3rver's filesystem store, with writes that S3 would recognise and that cost one pass over the bytes:
 *
 * - **A PutObject appears whole or not at all.** s3rver writes the body straight to the object's file, so a
 *   PutObject cut short (a refused attachment) would leave a partial object, visible and listed. Here the
 *   body goes to a staging file under the bucket's `._S3rver_uploads` (swept like an abandoned multipart
 *   upload if the process dies meanwhile) and is renamed into place once the request's every byte arrived.
 * - **No MD5.** s3rver hashes every object and part with MD5 for its ETag, and a copy to another key hashes
 *   the copy again: for a 25 MB attachment that was more CPU than anything else the bridge does with it. S3
 *   promises no MD5 in an ETag (not for a multipart upload, nor under SSE-KMS); here an ETag is 32 random hex
 *   digits, unique to each write, followed by `-1` as an S3 multipart upload's, so that tools which take a
 *   bare 32-digit ETag for an MD5 (rclone, s3cmd) do not check the bytes against it.
 */
class EmbeddedStore extends FilesystemStore {
  override async putObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    const staging = path.join(this.getResourcePath(object.bucket, undefined, 'uploads'), `put-${randomBytes(12).toString('hex')}`);
    await fs.promises.mkdir(path.dirname(staging), { recursive: true });
    try {
      const file = fs.createWriteStream(staging);
      await pipeline(Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content, file);
      // A request body that ended before its Content-Length errors the pipeline already; this says so outright.
      if (object.content instanceof IncomingMessage && !object.content.complete) throw new Error('the request body was cut short');
      const etag = newEtag('-1');
      await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
      // The metadata first: without its object file, s3rver does not see it; the rename makes both visible.
      await this.putMetadata(object.bucket, object.key, object.metadata, etag);
      await fs.promises.rename(staging, objectPath);
      return { size: file.bytesWritten, md5: etag };
    } catch (err) {
      await fs.promises.rm(staging, { force: true });
      throw err;
    }
  }

  override async putPart(
    bucket: string,
    uploadId: string,
    partNumber: number | string,
    content: Readable,
  ): Promise<{ size: number; md5: string }> {
    const partPath = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    await fs.promises.mkdir(path.dirname(partPath), { recursive: true });
    const file = fs.createWriteStream(partPath);
    await pipeline(content, file);
    const etag = newEtag();
    await fs.promises.writeFile(`${partPath}.md5`, etag);
    return { size: file.bytesWritten, md5: etag };
  }

  /**
   * s3rver writes no ETag for a copy to another key with replaced metadata, and so computes an MD5 of the
   * copy when it is next read: the copy takes the source's ETag instead (its bytes are the same, as on S3).
   */
  override async copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: Record<string, string> | null,
  ): Promise<Record<string, string>> {
    if (!replacementMetadata || (srcBucket === destBucket && srcKey === destKey)) {
      return super.copyObject(srcBucket, srcKey, destBucket, destKey, replacementMetadata);
    }
    await super.copyObject(srcBucket, srcKey, destBucket, destKey, null);
    await this.putMetadata(destBucket, destKey, replacementMetadata);
    return this.getMetadata(destBucket, destKey);
  }
}

function newEtag(suffix = ''): string {
  return `${randomBytes(16).toString('hex')}${suffix}`;
}

/** Gives an s3rver (before it serves anything) the store above. */
export function useEmbeddedStore(s3rver: S3rver, directory: string): void {
  const app = s3rver as unknown as { store: FilesystemStore; context: { store: FilesystemStore } };
  app.store = app.context.store = new EmbeddedStore(directory);
}
