import { pipeline } from 'node:stream/promises';
import express, { type Router } from 'express';
import { AttachmentRecords } from '../attachments/attachment-records.ts';
import type { AttachmentStorage } from '../attachments/attachment-storage.ts';
import type { Db } from '../store/database.ts';
import { FILE_LINK_PATH, type FileLinks } from '../local-org/file-links.ts';

/**
 * `GET /files/{attachmentId}?expires=&signature=` on the Interaction API's port: the bytes of a file the
 * local org's agent sent, for whoever holds the link the Attachments message published (the link is the
 * credential: no access token). A link not signed by this bridge for this file, or expired, is 403.
 */
export function fileLinkDownloadRouter(deps: { db: Db; orgId: string; storage: AttachmentStorage; links: FileLinks }): Router {
  const records = new AttachmentRecords(deps.db);
  const router = express.Router();
  router.get(`${FILE_LINK_PATH}/:attachmentId`, async (req, res) => {
    const { attachmentId } = req.params;
    const refusal = deps.links.refusal(attachmentId, req.query.expires, req.query.signature);
    if (refusal) {
      res.status(403).json({ code: 'forbidden', message: refusal });
      return;
    }
    const record = await records.get(deps.orgId, attachmentId);
    if (!record) {
      res.status(404).json({ code: 'not_found', message: `The file "${attachmentId}" is no longer stored.` });
      return;
    }
    const object = await deps.storage.open(record.objectKey);
    res.attachment(record.name);
    res.setHeader('Content-Type', record.mimeType);
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
