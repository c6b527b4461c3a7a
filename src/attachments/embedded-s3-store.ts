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
export class EmbeddedStore extends FilesystemStore {
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
   * Starts writing an object without a request to the server: what a PutObject does (the same staging,
   * the same files, ETag and metadata), for the process the server runs in. See LocalPut.
   */
  startLocalPut(bucket: string): LocalPut {
    return new StagedPut(this, bucket);
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

/**
 * An object written straight into the embedded server's files, by the process it runs in: the bytes go to
 * a staging file (as a PutObject's do), and `complete` makes them the object at `key`, with the files,
 * ETag and metadata that a PutObject with that Content-Type and those x-amz-meta-* headers would leave,
 * so that a GET or HEAD through the server answers exactly as after one. Until then, and after a failure or
 * `abort`, there is no object and no staging file.
 */
export interface LocalPut {
  /** Settles when the chunk has been taken: at most one batch is written while the next one fills. */
  write(chunk: Buffer): Promise<void>;
  /**
   * Writes what is left, then makes the object durable before it resolves: the file's data, its metadata
   * files and the directory entries that name them are on the disk (fsync), as a committed row is.
   */
  complete(key: string, description: { contentType: string; metadata: Record<string, string> }): Promise<void>;
  abort(): Promise<void>;
}

/** Bytes gathered before one write: an upload of 25 MB makes 25 writes, not one per network chunk. */
const WRITE_BATCH_BYTES = 1024 * 1024;

class StagedPut implements LocalPut {
  private readonly staging: string;
  private readonly file: Promise<fs.promises.FileHandle>;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  /** The write in flight; a failed one fails the put (every later step rethrows it). */
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: FilesystemStore,
    private readonly bucket: string,
  ) {
    this.staging = path.join(store.getResourcePath(bucket, undefined, 'uploads'), `put-${randomBytes(12).toString('hex')}`);
    this.file = fs.promises.mkdir(path.dirname(this.staging), { recursive: true }).then(() => fs.promises.open(this.staging, 'wx'));
    this.file.catch(() => {});
  }

  async write(chunk: Buffer): Promise<void> {
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes >= WRITE_BATCH_BYTES) await this.flush();
  }

  async complete(key: string, description: { contentType: string; metadata: Record<string, string> }): Promise<void> {
    const objectPath = this.store.getResourcePath(this.bucket, key, 'object');
    const metadataPath = this.store.getResourcePath(this.bucket, key, 'metadata.json');
    const md5Path = this.store.getResourcePath(this.bucket, key, 'object.md5');
    try {
      await this.flush();
      await this.writing;
      const file = await this.file;
      const directory = path.dirname(objectPath);
      // What s3rver's putObject would keep of the request's headers (putMetadata picks the same ones).
      const headers: Record<string, string> = { 'content-type': description.contentType };
      for (const [name, value] of Object.entries(description.metadata)) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
      // The metadata first, as in putObject above: without its object file, s3rver does not see it. The
      // three files are synced at once, so their fsyncs share the file system's journal commits.
      const [firstCreated] = (await allSettled([
        fs.promises.mkdir(directory, { recursive: true }).then(async (created) => {
          await allSettled([writeDurably(md5Path, newEtag('-1')), writeDurably(metadataPath, JSON.stringify(headers, null, 2))]);
          return created;
        }),
        file.datasync().then(() => this.close()),
      ])) as [string | undefined, unknown];
      await fs.promises.rename(this.staging, objectPath);
      await syncDirectories(directory, firstCreated);
    } catch (err) {
      await this.close().catch(() => {});
      // The key is this upload's own: whatever of it was written goes, with the staging file.
      await Promise.all([this.staging, objectPath, metadataPath, md5Path].map((f) => fs.promises.rm(f, { force: true })));
      throw err;
    }
  }

  async abort(): Promise<void> {
    this.batch = [];
    await this.writing.catch(() => {});
    await this.close().catch(() => {});
    await fs.promises.rm(this.staging, { force: true });
  }

  /** Starts writing the gathered batch once the one before it is written. */
  private async flush(): Promise<void> {
    await this.writing;
    if (this.batchBytes === 0) return;
    const buffers = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.writing = this.file.then((file) => writeAll(file, buffers));
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await (await this.file).close();
  }
}

async function writeAll(file: fs.promises.FileHandle, buffers: Buffer[]): Promise<void> {
  const rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await file.writev(rest);
    // A short write (rare, but allowed): go on from the first byte not written.
    while (rest.length > 0 && bytesWritten >= rest[0]!.length) bytesWritten -= rest.shift()!.length;
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}

/** As Promise.all, but settles only once every promise has: the cleanup after a failure races no write. */
async function allSettled(promises: Array<Promise<unknown>>): Promise<unknown[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value);
}

async function writeDurably(file: string, content: string): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  try {
    await handle.writeFile(content);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * fsyncs `directory` (where the rename put the object), and when `mkdir` created directories on the way
 * (`firstCreated`, the outermost), each of them up to the one that holds the outermost's entry.
 */
async function syncDirectories(directory: string, firstCreated: string | undefined): Promise<void> {
  const directories = [path.resolve(directory)];
  if (firstCreated !== undefined) {
    const outermost = path.resolve(firstCreated);
    for (let d = directories[0]!; d !== outermost && d !== path.dirname(d);) directories.push((d = path.dirname(d)));
    directories.push(path.dirname(outermost));
  }
  await Promise.all(
    directories.map(async (d) => {
      const handle = await fs.promises.open(d, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }),
  );
}

function newEtag(suffix = ''): string {
  return `${randomBytes(16).toString('hex')}${suffix}`;
}

/** Gives an s3rver (before it serves anything) the store above; returns it, for writes from this process. */
export function useEmbeddedStore(s3rver: S3rver, directory: string): EmbeddedStore {
  const app = s3rver as unknown as { store: FilesystemStore; context: { store: FilesystemStore } };
  const store = new EmbeddedStore(directory);
  app.store = app.context.store = store;
  return store;
}
