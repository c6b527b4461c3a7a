import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import busboy, { type FileInfo } from 'busboy';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { ApiError, badRequest } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
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
        reject(badRequest(ErrorCode.InvalidParameters, `The multipart request cannot be read: ${(err as Error).message}.`));
        return;
      }
      const stored: StoredAttachment[] = [];
      let jsonText: string | undefined;
      let request: InteractionRequest | undefined;
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
            reject(err);
          });
      };

      parser.on('field', (name, value, info) => {
        if (failure !== undefined) return;
        if (info.valueTruncated || info.nameTruncated) {
          fail(
            badRequest(
              ErrorCode.InvalidParameters,
              `The "${name}" part is larger than the limit of ${this.limits.jsonPartLimitBytes} bytes.`,
            ),
          );
          return;
        }
        if (name === 'attachments') {
          fail(
            badRequest(
              ErrorCode.EmptyOrMissingFile,
              'An "attachments" part carries no file: send it as a file part (curl -F "attachments=@path").',
            ),
          );
          return;
        }
        if (name !== 'json') return;
        if (jsonText !== undefined) {
          fail(badRequest(ErrorCode.EmptyRequestBody, 'The request has more than one "json" part.'));
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
            const interaction = this.interactionForFile(requestBeforeFile, index);
            stored.push(await this.storeFile(stream, info, { orgId, request: requestBeforeFile!, interaction, index }, req.log));
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
            if (jsonText === undefined) parseInteractionJsonPart(undefined);
            const expected = attachmentInteractionsOf(request!).length;
            if (fileCount === 0 && expected > 0) {
              throw badRequest(ErrorCode.EmptyOrMissingFile, 'The request has AttachmentInteractions but no "attachments" file part.');
            }
            if (fileCount !== expected) {
              throw badRequest(
                ErrorCode.AttachmentCountMismatch,
                `The request has ${expected} AttachmentInteraction(s) but ${fileCount} "attachments" file(s).`,
              );
            }
          } catch (err) {
            fail(err);
            return;
          }
          settled = true;
          resolve({ jsonText: jsonText!, request: request!, attachments: stored });
        });
      });

      parser.on('error', (err) =>
        fail(badRequest(ErrorCode.InvalidParameters, `The multipart body is malformed: ${(err as Error).message}.`)),
      );
      const tooMany = () => fail(new ApiError(413, ErrorCode.PayloadTooLarge, 'The multipart request has too many parts.'));
      parser.on('partsLimit', tooMany);
      parser.on('filesLimit', tooMany);
      parser.on('fieldsLimit', tooMany);
      req.on('close', () => {
        if (!req.complete)
          fail(badRequest(ErrorCode.InvalidParameters, 'The client closed the connection before the request was complete.'));
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
          .catch((err) => log.error({ err, key: a.objectKey }, 'could not delete an unreferenced attachment object')),
      ),
    );
  }

  /** Refuses before any byte of a file is read when a declared size is already over the limit. */
  private checkDeclaredSizes(request: InteractionRequest) {
    const seen = new Set<number>();
    for (const interaction of attachmentInteractionsOf(request)) {
      if (seen.has(interaction.attachmentIndex)) {
        throw badRequest(
          ErrorCode.InvalidInteractionList,
          `Two AttachmentInteractions have attachmentIndex ${interaction.attachmentIndex}.`,
        );
      }
      seen.add(interaction.attachmentIndex);
      if (interaction.contentLength! > this.limits.maxFileBytes) throw this.tooLarge(interaction.id);
    }
  }

  private interactionForFile(request: InteractionRequest | undefined, index: number): AttachmentInteraction {
    if (!request) {
      throw badRequest(ErrorCode.EmptyRequestBody, 'The "json" part must come before the "attachments" file parts.');
    }
    const interactions = attachmentInteractionsOf(request);
    if (index >= interactions.length) {
      throw badRequest(
        ErrorCode.AttachmentCountMismatch,
        `The request has ${interactions.length} AttachmentInteraction(s) but more "attachments" files than that.`,
      );
    }
    const interaction = interactions.find((i) => i.attachmentIndex === index);
    if (!interaction) {
      throw badRequest(
        ErrorCode.AttachmentCountMismatch,
        `No AttachmentInteraction has attachmentIndex ${index}, the position of file ${index + 1}.`,
      );
    }
    return interaction;
  }

  private async storeFile(
    stream: Readable,
    info: FileInfo,
    p: { orgId: string; request: InteractionRequest; interaction: AttachmentInteraction; index: number },
    log: Logger,
  ): Promise<StoredAttachment> {
    const expected = p.interaction.contentLength!;
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
    let mimeType: string | undefined;
    let upload: ObjectUpload | undefined;
    let completed = false;

    const start = async () => {
      mimeType = await resolveMimeType(info.mimeType, Buffer.concat(head).subarray(0, MIME_SAMPLE_BYTES));
      if (!mimeType) {
        throw badRequest(
          ErrorCode.UndeterminableMimeType,
          `The MIME type of "${name}" cannot be determined: send the part with its Content-Type.`,
        );
      }
      upload = await this.storage.startUpload(objectKey, expected, { contentType: mimeType, metadata });
      for (const chunk of head.splice(0)) await write(chunk);
    };
    const write = async (chunk: Buffer) => {
      if (!upload!.body.write(chunk)) await Promise.race([once(upload!.body, 'drain'), upload!.received]);
    };

    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.limits.maxFileBytes) throw this.tooLarge(p.interaction.id);
        if (size > expected) throw this.wrongSize(name, expected, `more than ${expected}`);
        sha256.update(chunk);
        if (upload) await write(chunk);
        else {
          head.push(chunk);
          if (size >= MIME_SAMPLE_BYTES) await start();
        }
      }
      if (size === 0) throw badRequest(ErrorCode.EmptyOrMissingFile, `The file "${name}" is empty.`);
      if (size !== expected) throw this.wrongSize(name, expected, String(size));
      if (!upload) await start();
      await upload!.complete();
      completed = true;
      const digest = sha256.digest('hex');
      await this.storage.replaceMetadata(objectKey, { contentType: mimeType!, metadata: { ...metadata, sha256: digest } });
      return {
        id,
        interactionId: p.interaction.id,
        attachmentIndex: p.index,
        name,
        mimeType: mimeType!,
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
          .catch((e) => log.error({ err: e, key: objectKey }, 'could not delete an unreferenced attachment object'));
      } else {
        // Not completed, so not an object: aborting leaves nothing in the bucket.
        await upload?.abort().catch((e) => log.warn({ err: e, key: objectKey }, 'could not abort a refused attachment upload'));
      }
      throw err;
    }
  }

  private tooLarge(interactionId: string) {
    return badRequest(
      ErrorCode.FileTooLarge,
      `The file of AttachmentInteraction "${interactionId}" is larger than the limit of ${this.limits.maxFileBytes} bytes (25 MB).`,
    );
  }

  private wrongSize(name: string, expected: number, received: string) {
    return badRequest(ErrorCode.ContentLengthMismatch, `The file "${name}" has ${received} bytes, but its contentLength says ${expected}.`);
  }
}
