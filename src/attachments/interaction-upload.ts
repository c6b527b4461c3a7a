import type { Readable, Writable } from 'node:stream';
import type { Request, Response } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import { ApiError } from '../contract/api-error.ts';
import { apiError } from '../contract/interaction-errors.ts';
import {
  attachmentInteractionsOf,
  parseInteractionJsonPart,
  type AttachmentInteraction,
  type InteractionRequest,
} from '../contract/interaction-request.ts';
import type { AttachmentStorage } from './attachment-storage.ts';
import { bufferedJsonOnlyField } from './json-only-multipart.ts';
import { attachmentObjectKey } from './object-keys.ts';
import {
  contentLengthMismatch,
  fileTooLarge,
  objectMetadata,
  partChunks,
  S3StorageEngine,
  streamIntoBucket,
  type FileParts,
  type UnclaimedFile,
} from './s3-storage-engine.ts';
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

/** At most this many parts, of which at most MAX_FILES file parts and MAX_FIELDS plain fields (multer's limits: "at most"). */
const MAX_PARTS = 16;
const MAX_FILES = 8;
const MAX_FIELDS = 8;

/**
 * Reads a multipart `POST /interactions` as it arrives, its parts in any order (the contract states none,
 * and Salesforce's own sample clients send the file first). multer parses the body; its storage engine
 * (s3-storage-engine.ts) streams every `attachments` file part straight into the bucket while its size and
 * SHA-256 are computed. A file that comes after the `json` part is checked against its AttachmentInteraction
 * on the way; one that comes before it is written under an unclaimed key and checked, then moved to its
 * key, when the `json` part arrives. The `json` part may be a plain field or a file part
 * (`curl -F json=@body.json`, FormData with a Blob).
 *
 * The first problem ends the reading: the promise rejects at once with the precise ApiError, without
 * waiting for the rest of the body, after deleting every object this request had stored.
 */
export class InteractionUpload {
  constructor(
    private readonly storage: AttachmentStorage,
    private readonly limits: UploadLimits,
  ) {}

  /** `res` only tells when a refusal has been answered (multer is told of it then, see UploadSession.fail). */
  receive(req: Request, res: Response, orgId: string): Promise<ReceivedInteraction> {
    return new Promise((resolve, reject) => {
      const session = new UploadSession(this, this.storage, this.limits, req, res, orgId, resolve, reject);
      const json = bufferedJsonOnlyField(req, this.limits.jsonPartLimitBytes);
      if (json === undefined) session.start();
      else session.jsonOnly(json);
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
}

/** The parser multer hands to `streamHandler` (busboy), as far as the session listens to it. */
type MultipartParser = Writable;

/** One request being read: the order of its parts, what it has stored, and its first problem. */
class UploadSession implements FileParts {
  private readonly stored: StoredAttachment[] = [];
  private readonly unclaimed: UnclaimedFile[] = [];
  private request: ReturnType<typeof parseInteractionJsonPart> | undefined;
  private jsonSeen = false;
  private fileCount = 0;
  private currentFile: Readable | undefined;
  private work: Promise<void> = Promise.resolve();
  private removing: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  private settled = false;
  private parser: MultipartParser | undefined;
  private multerDone = false;
  /** Settles once the answer has been sent (or the connection is gone). */
  private readonly answered: Promise<void>;

  constructor(
    private readonly upload: InteractionUpload,
    private readonly storage: AttachmentStorage,
    private readonly limits: UploadLimits,
    private readonly req: Request,
    private readonly res: Response,
    private readonly orgId: string,
    private readonly resolve: (received: ReceivedInteraction) => void,
    private readonly reject: (err: Error) => void,
  ) {
    this.answered = new Promise((done) => {
      this.res.once('finish', done).once('close', done);
    });
  }

  start(): void {
    // Registered before multer's own listener, so a client that goes away is told apart from a malformed body.
    this.req.on('close', () => {
      if (!this.req.complete) {
        this.fail(apiError('UnreadableRequest', { problem: 'the client closed the connection before the request was complete' }));
      }
    });
    // streamHandler is multer 2's (its type package does not list it yet).
    const options: multer.Options & { streamHandler: (req: Request, parser: MultipartParser) => void } = {
      storage: new S3StorageEngine(this),
      // RFC 7578: a filename="..." is sent as UTF-8 bytes (multer's default reads Latin-1, garbling "café.txt");
      // a filename*=UTF-8''... (RFC 5987) takes precedence and is decoded as it says.
      defParamCharset: 'utf8',
      // multer's limits are "at most": a json field of exactly jsonPartLimitBytes passes, one byte more does not.
      // No fileSize: once a part reaches it, busboy discards the rest of the part as fast as it arrives (no
      // backpressure), so the body would be read to the part's end before the refusal; the engine counts
      // each file instead and refuses it at the first byte over the limit, with reading held there.
      limits: {
        fieldSize: this.limits.jsonPartLimitBytes,
        parts: MAX_PARTS,
        files: MAX_FILES,
        fields: MAX_FIELDS,
      },
      // File parts with other names are ignored (multer reads past them).
      fileFilter: (_req, file, accept) => {
        accept(null, file.fieldname === 'attachments' || file.fieldname === 'json');
      },
      streamHandler: (req, parser) => {
        this.watch(parser);
        req.pipe(parser);
      },
    };
    multer(options).any()(this.req, this.res, (err?: unknown) => {
      this.multerDone = true;
      if (err === undefined) void this.finish();
      // What multer refuses by itself is seen at once in `watch`; what reaches here first is what it found
      // before reading (no boundary).
      else this.fail(err instanceof ApiError ? err : apiError('UnreadableRequest', { problem: (err as Error).message }));
    });
  }

  /** A body read whole without multer (json-only-multipart.ts): its one part, the `json` field, as multer would have had it. */
  jsonOnly(value: string): void {
    this.multerDone = true;
    this.req.body = Object.assign(Object.create(null) as Record<string, string>, { json: value });
    this.req.files = [];
    this.fieldArrived('json', value, false);
    void this.finish();
  }

  /**
   * Multer has no hook for a plain field as it arrives, and reports its own refusals (its limits, a part
   * without a name) only after reading the rest of the body. So the session also listens to the parser
   * multer feeds: for the `json` field, and for those problems, to answer them at once.
   */
  private watch(parser: MultipartParser): void {
    this.parser = parser;
    parser.on('field', (name: string | undefined, value: string, info: { valueTruncated: boolean }) => {
      this.fieldArrived(name, value, info.valueTruncated);
    });
    parser.on('file', (name: string | undefined, _stream: Readable, info: { filename?: string }) => {
      if (name === undefined) this.fail(namelessPart());
      // A part without a file name is "no file chosen" to a browser; multer skips it.
      else if (name === 'attachments' && !info.filename) this.fail(apiError('FilePartWithoutFile'));
    });
    const tooMany = () => {
      this.fail(
        apiError('RequestTooLarge', {
          what: `The number of parts (at most ${MAX_PARTS}: ${MAX_FILES} file parts and ${MAX_FIELDS} fields)`,
        }),
      );
    };
    parser.on('partsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', (err: Error) => {
      this.fail(apiError('UnreadableRequest', { problem: `the multipart body is malformed: ${err.message}` }));
    });
  }

  private fieldArrived(name: string | undefined, value: string, truncated: boolean): void {
    if (this.failure !== undefined) return;
    if (name === undefined) this.fail(namelessPart());
    else if (truncated) this.fail(apiError('BodyTooLarge', { what: `The "${name}" part`, limitBytes: this.limits.jsonPartLimitBytes }));
    else if (name === 'attachments') this.fail(apiError('FilePartWithoutFile'));
    else if (name === 'json') {
      try {
        this.jsonPart(value);
      } catch (err) {
        this.fail(err);
      }
    }
  }

  /** The storage engine's `_handleFile`: the part takes effect after every earlier part's. */
  async fileArrived(file: Express.Multer.File): Promise<Partial<Express.Multer.File>> {
    const index = file.fieldname === 'attachments' ? this.fileCount++ : -1;
    let info: Partial<Express.Multer.File> = {};
    await this.then(async () => {
      this.currentFile = file.stream;
      try {
        if (file.fieldname === 'json') {
          this.jsonPart(await readJsonFilePart(file.stream, this.limits.jsonPartLimitBytes));
          return;
        }
        const deps = { storage: this.storage, maxFileBytes: this.limits.maxFileBytes, log: this.req.log };
        let attachment: StoredAttachment | UnclaimedFile;
        if (this.request) {
          attachment = await streamIntoBucket(deps, file, { orgId: this.orgId, index, ...this.fileTarget(this.request, index) });
          this.stored.push(attachment);
        } else {
          attachment = await streamIntoBucket(deps, file, { orgId: this.orgId, index });
          this.unclaimed.push(attachment);
        }
        info = { size: attachment.size };
      } finally {
        this.currentFile = undefined;
      }
    });
    if (this.failure !== undefined) {
      // Called back with an error, multer reads the rest of the body before it lets go: hold it until the
      // refusal is out, so the client is not kept sending what the answer is meant to stop.
      await this.answered;
      throw asError(this.failure);
    }
    return info;
  }

  /** Multer abandons the request (the storage engine's `_removeFile`): each object this request holds goes, once. */
  removeAll(): Promise<void> {
    const removing = Promise.all([this.upload.discard(this.stored.splice(0), this.req.log), this.abandon(this.unclaimed.splice(0))]);
    this.removing = Promise.all([this.removing, removing]);
    return this.removing.then(() => undefined);
  }

  /**
   * The first problem: reading stops at once (the rest of the body stays unread until the answer is out),
   * the file in progress aborts its upload, every object stored so far goes, then the promise rejects.
   * Multer is told only once the refusal has been answered: told earlier, it would read the whole body
   * before letting go.
   */
  private fail(err: unknown): void {
    if (this.failure !== undefined || this.settled) return;
    this.failure = err;
    if (this.parser) this.req.unpipe(this.parser);
    this.currentFile?.destroy();
    void this.idle()
      .then(() => this.removeAll())
      .then(() => {
        this.settled = true;
        this.reject(asError(err));
      });
    void this.answered.then(() => {
      if (!this.multerDone) this.parser?.destroy(asError(err));
    });
  }

  /** The body has been read and every file part handled: the request as a whole is checked. */
  private async finish(): Promise<void> {
    await this.idle();
    if (this.failure !== undefined) return;
    const request = this.request;
    try {
      if (request === undefined) throw apiError('MissingJsonPart');
      const expected = attachmentInteractionsOf(request).length;
      if (this.fileCount === 0 && expected > 0) throw apiError('MissingFiles');
      if (this.fileCount !== expected) throw apiError('AttachmentCountMismatch', { interactions: expected, files: this.fileCount });
    } catch (err) {
      this.fail(err);
      return;
    }
    this.settled = true;
    this.resolve({ jsonText: request.jsonText, request, attachments: this.stored });
  }

  /** Queues a step after every earlier part's, so parts take effect in the order they came; a throw refuses the request. */
  private then(step: () => Promise<void>): Promise<void> {
    this.work = this.work.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await step();
      } catch (err) {
        this.fail(err);
      }
    });
    return this.work;
  }

  /** Settles once every queued step has, including steps queued by steps (a json part queues its claim). */
  private async idle(): Promise<void> {
    for (let seen = this.work; ; seen = this.work) {
      await seen;
      if (seen === this.work) return;
    }
  }

  private jsonPart(text: string): void {
    if (this.jsonSeen) throw apiError('MalformedBody', { problem: 'the request has more than one "json" part' });
    this.jsonSeen = true;
    const parsed = parseInteractionJsonPart(text);
    this.checkDeclaredSizes(parsed);
    this.request = parsed;
    // Files that came first are checked now; each is moved to its key or the request is refused.
    void this.then(() => this.claim(parsed));
  }

  /** Checks the files that came before the `json` part against it and moves each to its key. */
  private async claim(request: InteractionRequest): Promise<void> {
    const files = this.unclaimed;
    // Every check first, so a refusal moves nothing.
    const targets = files.map((file) => {
      const { interaction } = this.fileTarget(request, file.index);
      if (file.size !== interaction.contentLength) throw contentLengthMismatch(file.name, interaction.contentLength, String(file.size));
      return interaction;
    });
    for (const interaction of targets) {
      const file = files.shift() as UnclaimedFile;
      const objectKey = attachmentObjectKey({
        orgId: this.orgId,
        channelAddressIdentifier: request.to,
        endUserClientIdentifier: request.from,
        entryId: interaction.id,
        attachmentIndex: file.index,
        attachmentId: file.id,
        fileName: file.name,
      });
      try {
        await file.upload.complete({
          key: objectKey,
          description: { contentType: file.mimeType, metadata: { ...objectMetadata(file.name, interaction.id), sha256: file.sha256 } },
        });
      } catch (err) {
        await file.upload.abort().catch(() => {});
        throw err;
      }
      this.stored.push({
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
  private async abandon(files: readonly UnclaimedFile[]): Promise<void> {
    await Promise.all(
      files.map((f) =>
        f.upload.abort().catch((err: unknown) => this.req.log.warn({ err, key: f.key }, 'could not abort an unclaimed attachment upload')),
      ),
    );
  }

  /** Refuses before any byte of a file is read when a declared size is already over the limit. */
  private checkDeclaredSizes(request: InteractionRequest): void {
    const seen = new Set<number>();
    for (const interaction of attachmentInteractionsOf(request)) {
      if (seen.has(interaction.attachmentIndex)) {
        throw apiError('InvalidInteractionList', {
          where: 'Two AttachmentInteractions',
          rule: `have attachmentIndex ${interaction.attachmentIndex}`,
        });
      }
      seen.add(interaction.attachmentIndex);
      if (interaction.contentLength > this.limits.maxFileBytes) throw fileTooLarge(interaction.id, this.limits.maxFileBytes);
    }
  }

  /** The AttachmentInteraction the file at `index` belongs to, with the request that declared it. */
  private fileTarget(request: InteractionRequest, index: number): { request: InteractionRequest; interaction: AttachmentInteraction } {
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
}

/** RFC 7578: every part names its field; multer refuses a part without a name, and so does the bridge. */
function namelessPart(): ApiError {
  return apiError('UnreadableRequest', { problem: 'a part has no name (each part needs Content-Disposition: form-data; name="...")' });
}

/** The text of a `json` part sent as a file part, held to the same limit (and refusal) as a plain `json` field. */
async function readJsonFilePart(stream: Readable, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of partChunks(stream)) {
    size += chunk.length;
    if (size > limitBytes) throw apiError('BodyTooLarge', { what: 'The "json" part', limitBytes });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
