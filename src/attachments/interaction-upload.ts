import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import busboy, { type FileInfo } from 'busboy';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { apiError } from '../contract/interaction-errors.ts';
import {
  attachmentInteractionsOf,
  parseInteractionJsonPart,
  type AttachmentInteraction,
  type InteractionRequest,
} from '../contract/interaction-request.ts';
import type { AttachmentStorage, ObjectUpload } from './attachment-storage.ts';
import { MIME_SAMPLE_BYTES, resolveMimeType } from './mime-type.ts';
import { attachmentObjectKey, baseFileName, unclaimedObjectKey } from './object-keys.ts';
import type { StoredAttachment } from './stored-attachment.ts';

export interface ReceivedInteraction {
  jsonText: string;
  request: InteractionRequest;
  /** In file order; each already in the bucket, complete and checked. */
  attachments: StoredAttachment[];
}

export interface UploadLimits {
  maxFileBytes: number;
  jsonPartLimitBytes: number;
}

/** A file that came before the `json` part: written under an unclaimed key, not yet an object. */
interface UnclaimedFile {
  index: number;
  id: string;
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
  key: string;
  upload: { complete(): Promise<void>; abort(): Promise<void> };
}

/** Where a file's bytes go while they are counted: a sized upload (json known) or an unsized one. */
interface FileSink {
  write(chunk: Buffer): Promise<void>;
  complete(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Reads a multipart `POST /interactions` as it arrives, its parts in any order (the contract states none,
 * and Salesforce's own sample clients send the file first). Every `attachments` file part is streamed
 * straight into the bucket while its size and SHA-256 are computed. A file that comes after the `json`
 * part is checked against its AttachmentInteraction on the way; one that comes before it is written
 * under an unclaimed key and checked, then moved to its key, when the `json` part arrives. The `json`
 * part may be a plain field or a file part (`curl -F json=@body.json`, FormData with a Blob).
 *
 * The first problem ends the reading: the promise rejects at once with the precise ApiError, without
 * waiting for the rest of the body, after deleting every object this request had stored.
 */
export class InteractionUpload {
  constructor(
    private readonly storage: AttachmentStorage,
    private readonly limits: UploadLimits,
  ) {}

  receive(req: Request, orgId: string): Promise<ReceivedInteraction> {
    return new Promise((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: req.headers,
          // RFC 7578: a filename="..." is sent as UTF-8 bytes (busboy's default reads Latin-1, garbling
          // "café.txt"); a filename*=UTF-8''... (RFC 5987) takes precedence and is decoded as it says.
          defParamCharset: 'utf8',
          // busboy flags a field as truncated once it reaches fieldSize: one byte more lets a part of exactly the limit through.
          limits: { fieldSize: this.limits.jsonPartLimitBytes + 1, fields: 8, parts: 16, files: 8 },
        });
      } catch (err) {
        reject(apiError('UnreadableRequest', { problem: (err as Error).message }));
        return;
      }
      const stored: StoredAttachment[] = [];
      const unclaimed: UnclaimedFile[] = [];
      let jsonSeen = false;
      let request: ReturnType<typeof parseInteractionJsonPart> | undefined;
      let fileCount = 0;
      let currentFile: Readable | undefined;
      let work: Promise<void> = Promise.resolve();
      let failure: unknown;
      let settled = false;

      const fail = (err: unknown) => {
        if (failure !== undefined || settled) return;
        failure = err;
        req.unpipe(parser);
        currentFile?.destroy();
        // The file in progress removes its own partial object; then everything stored before it goes.
        void work
          .catch(() => {})
          .then(() => Promise.all([this.discard(stored, req.log), this.abandon(unclaimed.splice(0), req.log)]))
          .then(() => {
            settled = true;
            reject(err instanceof Error ? err : new Error(String(err)));
          });
      };
      /** Queues a step after every earlier part's, so parts take effect in the order they came. */
      const then = (step: () => Promise<void>) => {
        work = work.then(async () => {
          if (failure !== undefined) return;
          try {
            await step();
          } catch (err) {
            fail(err);
          }
        });
      };
      const jsonPart = (text: string) => {
        if (jsonSeen) throw apiError('MalformedBody', { problem: 'the request has more than one "json" part' });
        jsonSeen = true;
        const parsed = parseInteractionJsonPart(text);
        this.checkDeclaredSizes(parsed);
        request = parsed;
        // Files that came first are checked now; each is moved to its key or the request is refused.
        then(() => this.claim(unclaimed, parsed, orgId, stored));
      };

      parser.on('field', (name, value, info) => {
        if (failure !== undefined) return;
        if (info.valueTruncated || info.nameTruncated) {
          fail(apiError('BodyTooLarge', { what: `The "${name}" part`, limitBytes: this.limits.jsonPartLimitBytes }));
          return;
        }
        if (name === 'attachments') {
          fail(apiError('FilePartWithoutFile'));
          return;
        }
        if (name !== 'json') return;
        try {
          jsonPart(value);
        } catch (err) {
          fail(err);
        }
      });

      parser.on('file', (name, stream, info) => {
        stream.on('error', () => {}); // failures surface through the reader below, once
        if (failure !== undefined || (name !== 'attachments' && name !== 'json')) {
          stream.resume();
          return;
        }
        const index = name === 'attachments' ? fileCount++ : -1;
        work = work.then(async () => {
          if (failure !== undefined) {
            stream.resume();
            return;
          }
          currentFile = stream;
          try {
            if (name === 'json') jsonPart(await this.readJsonFile(stream));
            else if (request) {
              const target = this.fileTarget(request, index);
              stored.push(await this.storeFile(stream, info, { orgId, ...target, index }, req.log));
            } else {
              const file = await this.storeFile(stream, info, { orgId, index }, req.log);
              unclaimed.push(file);
            }
          } catch (err) {
            stream.resume();
            fail(err);
          } finally {
            currentFile = undefined;
          }
        });
      });

      /** Settles once every queued step has, including steps queued by steps (a json part queues its claim). */
      const idle = async () => {
        for (let seen = work; ; seen = work) {
          await seen;
          if (seen === work) return;
        }
      };

      parser.on('close', () => {
        void idle().then(() => {
          if (failure !== undefined) return;
          try {
            if (request === undefined) throw apiError('MissingJsonPart');
            const expected = attachmentInteractionsOf(request).length;
            if (fileCount === 0 && expected > 0) {
              throw apiError('MissingFiles');
            }
            if (fileCount !== expected) {
              throw apiError('AttachmentCountMismatch', { interactions: expected, files: fileCount });
            }
          } catch (err) {
            fail(err);
            return;
          }
          settled = true;
          resolve({ jsonText: request.jsonText, request, attachments: stored });
        });
      });

      parser.on('error', (err) =>
        fail(apiError('UnreadableRequest', { problem: `the multipart body is malformed: ${(err as Error).message}` })),
      );
      const tooMany = () => fail(apiError('RequestTooLarge', { what: 'The number of parts' }));
      parser.on('partsLimit', tooMany);
      parser.on('filesLimit', tooMany);
      parser.on('fieldsLimit', tooMany);
      req.on('close', () => {
        if (!req.complete)
          fail(apiError('UnreadableRequest', { problem: 'the client closed the connection before the request was complete' }));
      });
      req.pipe(parser);
    });
  }

  /** The text of a `json` part sent as a file, held to the same limit as a plain `json` field. */
  private async readJsonFile(stream: Readable): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.limits.jsonPartLimitBytes) {
        throw apiError('RequestTooLarge', { what: `The "json" part (limit ${this.limits.jsonPartLimitBytes} bytes)` });
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Checks the files that came before the `json` part against it and moves each to its key. */
  private async claim(files: UnclaimedFile[], request: InteractionRequest, orgId: string, stored: StoredAttachment[]) {
    // Every check first, so a refusal moves nothing.
    const targets = files.map((file) => {
      const { interaction } = this.fileTarget(request, file.index);
      if (file.size !== interaction.contentLength) throw this.wrongSize(file.name, interaction.contentLength, String(file.size));
      return interaction;
    });
    for (const interaction of targets) {
      const file = files.shift() as UnclaimedFile;
      try {
        await file.upload.complete();
      } catch (err) {
        await file.upload.abort().catch(() => {});
        throw err;
      }
      const objectKey = attachmentObjectKey({
        orgId,
        channelAddressIdentifier: request.to,
        endUserClientIdentifier: request.from,
        entryId: interaction.id,
        attachmentIndex: file.index,
        attachmentId: file.id,
        fileName: file.name,
      });
      try {
        await this.storage.move(file.key, objectKey, {
          contentType: file.mimeType,
          metadata: { ...this.metadataOf(file.name, interaction.id), sha256: file.sha256 },
        });
      } catch (err) {
        await this.storage.delete(file.key).catch(() => {});
        throw err;
      }
      stored.push({
        id: file.id,
        interactionId: interaction.id,
        attachmentIndex: file.index,
        name: file.name,
        mimeType: file.mimeType,
        size: file.size,
        sha256: file.sha256,
        bucket: this.storage.bucket,
        objectKey,
        url: this.storage.objectUrl(objectKey),
      });
    }
  }

  /** Unclaimed files of a refused request: their uploads were never completed, so aborting leaves nothing. */
  private async abandon(files: readonly UnclaimedFile[], log: Logger): Promise<void> {
    await Promise.all(
      files.map((f) =>
        f.upload.abort().catch((err: unknown) => log.warn({ err, key: f.key }, 'could not abort an unclaimed attachment upload')),
      ),
    );
  }

  /** Removes objects that will not be referenced (a refused, failed or replayed request). */
  async discard(attachments: readonly StoredAttachment[], log: Logger): Promise<void> {
    await Promise.all(
      attachments.map((a) =>
        this.storage
          .delete(a.objectKey)
          .catch((err: unknown) => log.error({ err, key: a.objectKey }, 'could not delete an unreferenced attachment object')),
      ),
    );
  }

  /** Refuses before any byte of a file is read when a declared size is already over the limit. */
  private checkDeclaredSizes(request: InteractionRequest) {
    const seen = new Set<number>();
    for (const interaction of attachmentInteractionsOf(request)) {
      if (seen.has(interaction.attachmentIndex)) {
        throw apiError('InvalidInteractionList', {
          where: 'Two AttachmentInteractions',
          rule: `have attachmentIndex ${interaction.attachmentIndex}`,
        });
      }
      seen.add(interaction.attachmentIndex);
      if (interaction.contentLength > this.limits.maxFileBytes) throw this.tooLarge(interaction.id);
    }
  }

  /** The AttachmentInteraction the file at `index` belongs to, with the request that declared it. */
  private fileTarget(
    request: InteractionRequest | undefined,
    index: number,
  ): { request: InteractionRequest; interaction: AttachmentInteraction } {
    if (!request) {
      throw apiError('MalformedBody', { problem: 'the "json" part must come before the "attachments" file parts' });
    }
    const interactions = attachmentInteractionsOf(request);
    if (index >= interactions.length) {
      throw apiError('AttachmentCountMismatch', { interactions: interactions.length, files: 'more' });
    }
    const interaction = interactions.find((i) => i.attachmentIndex === index);
    if (!interaction) {
      throw apiError('NoInteractionForFile', { index });
    }
    return { request, interaction };
  }

  private metadataOf(name: string, interactionId?: string): Record<string, string> {
    return {
      'original-name': encodeURIComponent(name),
      ...(interactionId === undefined ? {} : { 'interaction-id': encodeURIComponent(interactionId) }),
    };
  }

  /**
   * Streams one file into the bucket, counting and hashing it. With its AttachmentInteraction known, it is
   * checked on the way and completed as a checked object; without, it is written under an unclaimed key and
   * left uncompleted for `claim`.
   */
  private async storeFile(
    stream: Readable,
    info: FileInfo,
    p: { orgId: string; request: InteractionRequest; interaction: AttachmentInteraction; index: number },
    log: Logger,
  ): Promise<StoredAttachment>;
  private async storeFile(stream: Readable, info: FileInfo, p: { orgId: string; index: number }, log: Logger): Promise<UnclaimedFile>;
  private async storeFile(
    stream: Readable,
    info: FileInfo,
    p: { orgId: string; request?: InteractionRequest; interaction?: AttachmentInteraction; index: number },
    log: Logger,
  ): Promise<StoredAttachment | UnclaimedFile> {
    const expected = p.interaction?.contentLength;
    const name = baseFileName(info.filename) || `attachment-${p.index}`;
    const id = randomUUID();
    const objectKey =
      p.request && p.interaction
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
    const metadata = this.metadataOf(name, p.interaction?.id);
    const sha256 = createHash('sha256');
    const head: Buffer[] = [];
    let size = 0;
    let started: { sink: FileSink; mimeType: string } | undefined;
    let completed = false;

    const start = async () => {
      const mimeType = await resolveMimeType(info.mimeType, Buffer.concat(head).subarray(0, MIME_SAMPLE_BYTES));
      if (!mimeType) {
        throw apiError('UndeterminableMimeType', { name });
      }
      const description = { contentType: mimeType, metadata };
      const sink =
        expected === undefined
          ? await this.storage.startUnsizedUpload(objectKey, description)
          : sizedSink(await this.storage.startUpload(objectKey, expected, description));
      started = { sink, mimeType };
      for (const chunk of head.splice(0)) await sink.write(chunk);
      return started;
    };

    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.limits.maxFileBytes) throw this.tooLarge(p.interaction?.id ?? `file ${p.index}`);
        if (expected !== undefined && size > expected) throw this.wrongSize(name, expected, `more than ${expected}`);
        sha256.update(chunk);
        if (started) await started.sink.write(chunk);
        else {
          head.push(chunk);
          if (size >= MIME_SAMPLE_BYTES) await start();
        }
      }
      if (size === 0) throw apiError('EmptyFile', { name });
      if (expected !== undefined && size !== expected) throw this.wrongSize(name, expected, String(size));
      const { sink, mimeType } = started ?? (await start());
      const digest = sha256.digest('hex');
      if (expected === undefined) {
        return { index: p.index, id, name, mimeType, size, sha256: digest, key: objectKey, upload: sink };
      }
      await sink.complete();
      completed = true;
      await this.storage.replaceMetadata(objectKey, { contentType: mimeType, metadata: { ...metadata, sha256: digest } });
      return {
        id,
        interactionId: p.interaction?.id ?? '',
        attachmentIndex: p.index,
        name,
        mimeType,
        size,
        sha256: digest,
        bucket: this.storage.bucket,
        objectKey,
        url: this.storage.objectUrl(objectKey),
      };
    } catch (err) {
      if (completed) {
        // Only the metadata step failed: the object exists, and nothing will reference it.
        await this.storage
          .delete(objectKey)
          .catch((e: unknown) => log.error({ err: e, key: objectKey }, 'could not delete an unreferenced attachment object'));
      } else {
        // Not completed, so not an object: aborting leaves nothing in the bucket.
        await started?.sink
          .abort()
          .catch((e: unknown) => log.warn({ err: e, key: objectKey }, 'could not abort a refused attachment upload'));
      }
      throw err;
    }
  }

  private tooLarge(interactionId: string) {
    return apiError('FileTooLarge', { interactionId, limitBytes: this.limits.maxFileBytes });
  }

  private wrongSize(name: string, expected: number, received: string) {
    return apiError('ContentLengthMismatch', { name, received, expected });
  }
}

/** A sized upload as a sink: each write waits for the upload to take the bytes (backpressure). */
function sizedSink(upload: ObjectUpload): FileSink {
  return {
    write: async (chunk) => {
      if (!upload.body.write(chunk)) await Promise.race([once(upload.body, 'drain'), upload.received]);
    },
    complete: () => upload.complete(),
    abort: () => upload.abort(),
  };
}
