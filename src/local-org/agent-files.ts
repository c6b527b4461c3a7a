import { createHash, randomUUID } from 'node:crypto';
import { insertAttachmentRecord } from '../attachments/attachment-records.ts';
import type { AttachmentStorage } from '../attachments/attachment-storage.ts';
import { attachmentObjectKey } from '../attachments/object-keys.ts';
import { managementError } from '../contract/management-errors.ts';
import type { Db } from '../store/database.ts';
import { inTransaction } from '../store/transactions.ts';
import type { AgentMessages, AgentSendResult } from './agent-messages.ts';
import type { FileLinks } from './file-links.ts';

export interface AgentFile {
  name: string;
  mimeType: string;
  bytes: Buffer;
  text: string;
}

/**
 * A file the local org's agent sends: stored in the attachment bucket like an end user's, then sent as an
 * agent message whose attachment URL is a signed, expiring link the partner fetches from the Interaction
 * API's port with no credential of ours (file-links.ts), and recorded on that entry
 * (in the entry's transaction) so the conversation lists it with the end user's files. The object is
 * complete before that transaction opens, so a sent message never points at a missing file and no
 * transaction waits on S3.
 */
export class AgentFiles {
  constructor(
    private readonly deps: {
      db: Db;
      orgId: string;
      storage: AttachmentStorage;
      messages: AgentMessages;
      links: FileLinks;
    },
  ) {}

  async send(conversationIdentifier: string, file: AgentFile): Promise<AgentSendResult> {
    const conversation = await this.deps.db
      .selectFrom('conversations')
      .select(['channel_address_identifier', 'end_user_client_identifier'])
      .where('conversation_identifier', '=', conversationIdentifier)
      .executeTakeFirst();
    if (!conversation) throw managementError('not_found', `No conversation "${conversationIdentifier}".`);
    const id = randomUUID();
    const objectKey = attachmentObjectKey({
      orgId: this.deps.orgId,
      channelAddressIdentifier: conversation.channel_address_identifier,
      endUserClientIdentifier: conversation.end_user_client_identifier,
      entryId: 'agent',
      attachmentIndex: 0,
      attachmentId: id,
      fileName: file.name,
    });
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    const upload = this.deps.storage.startUpload(objectKey, file.bytes.length, {
      contentType: file.mimeType,
      metadata: { sha256, 'file-name': encodeURIComponent(file.name) },
    });
    try {
      await upload.write(file.bytes);
      await upload.complete();
    } catch (err) {
      await upload.abort().catch(() => {});
      throw err;
    }
    return inTransaction(this.deps.db, async (tx) => {
      const sent = await this.deps.messages.sendMessageIn(tx, conversationIdentifier, {
        text: file.text,
        attachments: [{ id, url: this.deps.links.urlFor(id), name: file.name, mimeType: file.mimeType }],
      });
      await insertAttachmentRecord(tx, {
        orgId: this.deps.orgId,
        conversationIdentifier,
        entryId: sent.entryId,
        attachment: {
          id,
          interactionId: sent.entryId,
          attachmentIndex: 0,
          name: file.name,
          mimeType: file.mimeType,
          size: file.bytes.length,
          sha256,
          bucket: this.deps.storage.bucket,
          objectKey,
          url: this.deps.storage.objectUrl(objectKey),
        },
      });
      return sent;
    });
  }
}
