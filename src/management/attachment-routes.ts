import { pipeline } from 'node:stream/promises';
import express, { type Request, type Router } from 'express';
import type { AttachmentRecords } from '../attachments/attachment-records.ts';
import type { AttachmentStorage } from '../attachments/attachment-storage.ts';
import { managementError } from '../contract/management-errors.ts';
import type { ManagementOperation } from './openapi/operation.ts';

export const attachmentOperations: ManagementOperation[] = [
  {
    method: 'get',
    path: '/api/attachments/:attachmentId',
    tag: 'Conversations',
    summary: 'An attachment’s stored bytes, with its Content-Type and SHA-256',
    produces: 'application/octet-stream',
    responses: { 200: 'The file.', 404: 'No such attachment.' },
  },
];

export interface AttachmentDownloadDeps {
  orgId: string;
  attachmentRecords: AttachmentRecords;
  attachmentStorage: AttachmentStorage;
}

/** Where the management API serves an attachment's bytes (absolute, built from the request's host). */
export function downloadUrl(req: Request, attachmentId: string): string {
  return `${req.protocol}://${req.get('host')}/api/attachments/${encodeURIComponent(attachmentId)}`;
}

/**
 * `GET /api/attachments/{id}`: the stored bytes, streamed from the bucket through this server, with the
 * recorded Content-Type, and the SHA-256 in `X-Content-SHA256` and the ETag.
 */
export function attachmentRoutes(deps: AttachmentDownloadDeps): Router {
  const router = express.Router();
  router.get('/attachments/:attachmentId', async (req, res) => {
    const record = await deps.attachmentRecords.get(deps.orgId, req.params.attachmentId);
    if (!record) throw managementError('not_found', `No attachment "${req.params.attachmentId}".`);
    const object = await deps.attachmentStorage.openIfPresent(record.objectKey);
    if (!object) {
      throw managementError('not_found', `Attachment "${record.id}" is recorded but its object is no longer in the bucket.`);
    }
    res.attachment(record.name);
    res.setHeader('Content-Type', record.mimeType); // as recorded: res.set would append a charset to text types
    res.set({
      'Content-Length': String(object.contentLength ?? record.size),
      'X-Content-SHA256': record.sha256,
      ETag: `"${record.sha256}"`,
      'Cache-Control': 'private, max-age=0',
    });
    await pipeline(object.body, res);
  });
  return router;
}
