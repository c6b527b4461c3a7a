import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Request } from 'express';
import type multer from 'multer';
import type { Logger } from 'pino';
import { apiError } from '../contract/interaction-errors.ts';
import type { AttachmentInteraction, InteractionRequest } from '../contract/interaction-request.ts';
import type { AttachmentStorage, ObjectUpload } from './attachment-storage.ts';
import { MIME_SAMPLE_BYTES, resolveMimeType } from './mime-type.ts';
import { attachmentObjectKey, baseFileName, unclaimedObjectKey } from './object-keys.ts';
import type { StoredAttachment } from './stored-attachment.ts';

type MulterFile = Express.Multer.File;

/** What a request does with the file parts multer hands to the engine (see interaction-upload.ts). */
export interface FileParts {
  /** One accepted file part, in the order the parts came; resolves with what multer adds to `req.files`. */
  fileArrived(file: MulterFile): Promise<Partial<MulterFile>>;
  /** Multer abandons the request: every object it stored goes. */
  removeAll(): Promise<void>;
}

/**
 * The multer storage engine of one `POST /interactions`: multer parses the body and calls `_handleFile`
 * for each accepted file part as it starts; the request's FileParts puts the part in order after the ones
 * before it and streams it with `streamIntoBucket`. A file that came before the `json` part changes key
 * when it is claimed, so `_removeFile` (called only when multer abandons the request) removes whatever
 * the request holds at that moment, each object once.
 */
export class S3StorageEngine implements multer.StorageEngine {
  constructor(private readonly parts: FileParts) {}

  _handleFile(_req: Request, file: MulterFile, callback: (error?: unknown, info?: Partial<MulterFile>) => void): void {
    this.parts.fileArrived(file).then(
      (info) => callback(null, info),
      (err: unknown) => callback(err),
    );
  }

  _removeFile(_req: Request, _file: MulterFile, callback: (error: Error | null) => void): void {
    this.parts.removeAll().then(
      () => callback(null),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }
}

/** A file that came before the `json` part: written under an unclaimed key, not yet an object. */
export interface UnclaimedFile {
  index: number;
  id: string;
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
  key: string;
  /** Completed with the key and description it is claimed under. */
  upload: Pick<ObjectUpload, 'complete' | 'abort'>;
}

/** Where a file goes: with its AttachmentInteraction known (the `json` part came first), or not yet. */
export type FilePlacement =
  | { orgId: string; index: number; request: InteractionRequest; interaction: AttachmentInteraction }
  | { orgId: string; index: number; request?: undefined; interaction?: undefined };

export function objectMetadata(name: string, interactionId?: string): Record<string, string> {
  return {
    'original-name': encodeURIComponent(name),
    ...(interactionId === undefined ? {} : { 'interaction-id': encodeURIComponent(interactionId) }),
  };
}

export function fileTooLarge(interactionId: string, maxFileBytes: number) {
  return apiError('FileTooLarge', { interactionId, limitBytes: maxFileBytes });
}

export function contentLengthMismatch(name: string, expected: number, received: string) {
  return apiError('ContentLengthMismatch', { name, received, expected });
}

/**
 * Streams one file part into the bucket, counting and hashing it. With its AttachmentInteraction known, it
 * is checked on the way and completed as a checked object; without, it is written under an unclaimed key
 * and left uncompleted for the `json` part to claim. On a refusal it leaves nothing behind: the upload is
 * aborted (which removes a completed object whose final step failed).
 */
export async function streamIntoBucket(
  deps: { storage: AttachmentStorage; maxFileBytes: number; log: Logger },
  file: MulterFile,
  p: FilePlacement & { request: InteractionRequest },
): Promise<StoredAttachment>;
export async function streamIntoBucket(
  deps: { storage: AttachmentStorage; maxFileBytes: number; log: Logger },
  file: MulterFile,
  p: FilePlacement,
): Promise<UnclaimedFile>;
export async function streamIntoBucket(
  deps: { storage: AttachmentStorage; maxFileBytes: number; log: Logger },
  file: MulterFile,
  p: FilePlacement,
): Promise<StoredAttachment | UnclaimedFile> {
  const { storage, maxFileBytes, log } = deps;
  const expected = p.interaction?.contentLength;
  const name = baseFileName(file.originalname) || `attachment-${p.index}`;
  const id = randomUUID();
  const objectKey = p.request
    ? attachmentObjectKey({
        orgId: p.orgId,
        channelAddressIdentifier: p.request.to,
        endUserClientIdentifier: p.request.from,
        entryId: p.interaction.id,
        attachmentIndex: p.index,
        attachmentId: id,
        fileName: name,
      })
    : unclaimedObjectKey({ orgId: p.orgId, attachmentId: id, fileName: name });
  const metadata = objectMetadata(name, p.interaction?.id);
  const sha256 = createHash('sha256');
  const head: Buffer[] = [];
  let size = 0;
  let started: { sink: ObjectUpload; mimeType: string } | undefined;

  const start = async () => {
    const mimeType = await resolveMimeType(file.mimetype, Buffer.concat(head).subarray(0, MIME_SAMPLE_BYTES));
    if (!mimeType) {
      throw apiError('UndeterminableMimeType', { name });
    }
    const description = { contentType: mimeType, metadata };
    const sink =
      expected === undefined
        ? await storage.startUnsizedUpload(objectKey, description)
        : storage.startUpload(objectKey, expected, description);
    started = { sink, mimeType };
    for (const chunk of head.splice(0)) await sink.write(chunk);
    return started;
  };

  try {
    for await (const chunk of partChunks(file.stream)) {
      size += chunk.length;
      if (size > maxFileBytes) throw fileTooLarge(p.interaction?.id ?? `file ${p.index}`, maxFileBytes);
      if (expected !== undefined && size > expected) throw contentLengthMismatch(name, expected, `more than ${expected}`);
      sha256.update(chunk);
      if (started) await started.sink.write(chunk);
      else {
        head.push(chunk);
        if (size >= MIME_SAMPLE_BYTES) await start();
      }
    }
    if (size === 0) throw apiError('EmptyFile', { name });
    if (expected !== undefined && size !== expected) throw contentLengthMismatch(name, expected, String(size));
    const { sink, mimeType } = started ?? (await start());
    const digest = sha256.digest('hex');
    if (!p.request) {
      return { index: p.index, id, name, mimeType, size, sha256: digest, key: objectKey, upload: sink };
    }
    await sink.complete({ key: objectKey, description: { contentType: mimeType, metadata: { ...metadata, sha256: digest } } });
    return {
      id,
      interactionId: p.interaction.id,
      attachmentIndex: p.index,
      name,
      mimeType,
      size,
      sha256: digest,
      bucket: storage.bucket,
      objectKey,
      url: storage.objectUrl(objectKey),
    };
  } catch (err) {
    await started?.sink.abort().catch((e: unknown) => log.error({ err: e, key: objectKey }, 'could not abort a refused attachment upload'));
    throw err;
  }
}

/**
 * A file part's chunks. Leaving the loop early (a refusal) leaves the stream as it is: the default
 * iterator would destroy it with an AbortError, which multer takes as the part failing and answers by
 * reading the rest of the body (see UploadSession.fail for when multer is told).
 */
export function partChunks(stream: Readable): AsyncIterable<Buffer> {
  return { [Symbol.asyncIterator]: () => stream.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer> };
}
