import type { Db } from '../store/database.ts';
import type { Tables } from '../store/tables.ts';
import type { Tx } from '../store/transactions.ts';
import type { StoredAttachment } from './stored-attachment.ts';

export interface AttachmentRecord {
  id: string;
  entryId: string;
  attachmentIndex: number;
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
  bucket: string;
  objectKey: string;
}

/** Records which stored object belongs to which conversation entry, in the transaction that adds the entry. */
export async function insertAttachmentRecord(
  tx: Tx,
  p: { orgId: string; conversationIdentifier: string; entryId: string; attachment: StoredAttachment },
) {
  const a = p.attachment;
  await tx
    .insertInto('attachments')
    .values({
      attachment_id: a.id,
      org_id: p.orgId,
      conversation_identifier: p.conversationIdentifier,
      entry_id: p.entryId,
      attachment_index: a.attachmentIndex,
      file_name: a.name,
      mime_type: a.mimeType,
      size: a.size,
      sha256: a.sha256,
      bucket: a.bucket,
      object_key: a.objectKey,
      created_at: Date.now(),
    })
    .execute();
}

/** The attachments table, read: which stored object belongs to which conversation entry. */
export class AttachmentRecords {
  constructor(private readonly db: Db) {}

  async ofConversation(conversationIdentifier: string): Promise<AttachmentRecord[]> {
    const rows = await this.db
      .selectFrom('attachments')
      .selectAll()
      .where('conversation_identifier', '=', conversationIdentifier)
      .orderBy('created_at', 'asc')
      .orderBy('attachment_index', 'asc')
      .execute();
    return rows.map(toRecord);
  }

  async get(orgId: string, attachmentId: string): Promise<AttachmentRecord | undefined> {
    const row = await this.db
      .selectFrom('attachments')
      .selectAll()
      .where('attachment_id', '=', attachmentId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row && toRecord(row);
  }
}

function toRecord(row: Tables['attachments']): AttachmentRecord {
  return {
    id: row.attachment_id,
    entryId: row.entry_id,
    attachmentIndex: Number(row.attachment_index),
    name: row.file_name,
    mimeType: row.mime_type,
    size: Number(row.size),
    sha256: row.sha256,
    bucket: row.bucket,
    objectKey: row.object_key,
  };
}
