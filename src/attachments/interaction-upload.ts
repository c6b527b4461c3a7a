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
import { attachmentObjectKey, baseFileName } from './object-keys.ts';
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

/**
 * Reads a multipart `POST /interactions` as it arrives: the `json` part is validated as soon as it is
 * complete, and every `attachments` file part is streamed straight into the bucket while its size and
 * SHA-256 are computed, checked against its AttachmentInteraction on the way. The json part must come
 * before the files (curl -F order); a file before it is refused, since it cannot be checked.
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
      let jsonText: string | undefined;
      let request: ReturnType<typeof parseInteractionJsonPart> | undefined;
      let parsed: ReturnType<typeof parseInteractionJsonPart> | undefined;
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
          .then(() => this.discard(stored, req.log))
          .then(() => {
            settled = true;
            reject(err instanceof Error ? err : new Error(String(err)));
          });
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
        if (jsonText !== undefined) {
          fail(apiError('MalformedBody', { problem: 'the request has more than one "json" part' }));
          return;
        }
        jsonText = value;
        try {
          request = parseInteractionJsonPart(value);
          this.checkDeclaredSizes(request);
        } catch (err) {
          fail(err);
        }
      });

      parser.on('file', (name, stream, info) => {
        stream.on('error', () => {}); // failures surface through the reader below, once
        if (failure !== undefined || name !== 'attachments') {
          stream.resume();
          return;
        }
        const index = fileCount++;
        // Busboy may parse parts after this one before the queued work runs: what came first is decided now.
        const requestBeforeFile = request;
        work = work.then(async () => {
          if (failure !== undefined) {
            stream.resume();
            return;
          }
          currentFile = stream;
          try {
            const target = this.fileTarget(requestBeforeFile, index);
            stored.push(await this.storeFile(stream, info, { orgId, ...target, index }, req.log));
          } catch (err) {
            stream.resume();
            fail(err);
          } finally {
            currentFile = undefined;
          }
        });
      });

      parser.on('close', () => {
        void work.then(() => {
          if (failure !== undefined) return;
          try {
            if (request === undefined) throw apiError('MissingJsonPart');
            parsed = request;
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
          resolve({ jsonText: parsed.jsonText, request: parsed, attachments: stored });
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

  private async storeFile(
    stream: Readable,
    info: FileInfo,
    p: { orgId: string; request: InteractionRequest; interaction: AttachmentInteraction; index: number },
    log: Logger,
  ): Promise<StoredAttachment> {
    const expected = p.interaction.contentLength;
    const name = baseFileName(info.filename) || `attachment-${p.index}`;
    const id = randomUUID();
    const objectKey = attachmentObjectKey({
      orgId: p.orgId,
      channelAddressIdentifier: p.request.to,
      endUserClientIdentifier: p.request.from,
      entryId: p.interaction.id,
      attachmentIndex: p.index,
      attachmentId: id,
      fileName: name,
    });
    const metadata = { 'original-name': encodeURIComponent(name), 'interaction-id': encodeURIComponent(p.interaction.id) };
    const sha256 = createHash('sha256');
    const head: Buffer[] = [];
    let size = 0;
    let started: { upload: ObjectUpload; mimeType: string } | undefined;
    let completed = false;

    const write = async (upload: ObjectUpload, chunk: Buffer) => {
      if (!upload.body.write(chunk)) await Promise.race([once(upload.body, 'drain'), upload.received]);
    };
    const start = async () => {
      const mimeType = await resolveMimeType(info.mimeType, Buffer.concat(head).subarray(0, MIME_SAMPLE_BYTES));
      if (!mimeType) {
        throw apiError('UndeterminableMimeType', { name });
      }
      const upload = await this.storage.startUpload(objectKey, expected, { contentType: mimeType, metadata });
      started = { upload, mimeType };
      for (const chunk of head.splice(0)) await write(upload, chunk);
      return started;
    };

    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.limits.maxFileBytes) throw this.tooLarge(p.interaction.id);
        if (size > expected) throw this.wrongSize(name, expected, `more than ${expected}`);
        sha256.update(chunk);
        if (started) await write(started.upload, chunk);
        else {
          head.push(chunk);
          if (size >= MIME_SAMPLE_BYTES) await start();
        }
      }
      if (size === 0) throw apiError('EmptyFile', { name });
      if (size !== expected) throw this.wrongSize(name, expected, String(size));
      const { upload, mimeType } = started ?? (await start());
      await upload.complete();
      completed = true;
      const digest = sha256.digest('hex');
      await this.storage.replaceMetadata(objectKey, { contentType: mimeType, metadata: { ...metadata, sha256: digest } });
      return {
        id,
        interactionId: p.interaction.id,
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
        await started?.upload
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
