import { createHash } from 'node:crypto';
import path from 'node:path';

const MAX_SEGMENT = 120;

/**
 * One path segment safe in an S3 key and on a file system: no separators or traversal, no control or
 * unusual characters (each becomes `_`), never `.` or `..`, never empty, at most 120 characters.
 */
export function safeKeySegment(raw: string, fallback: string): string {
  const cleaned = raw
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._ -]/gu, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .trim();
  if (cleaned === '' || /^_+$/.test(cleaned)) return fallback;
  if (cleaned.length <= MAX_SEGMENT) return cleaned;
  const ext = path.extname(cleaned).slice(0, 16);
  return cleaned.slice(0, MAX_SEGMENT - ext.length) + ext;
}

/** The file name as the client sent it, reduced to its last path component (some clients send full paths). */
export function baseFileName(raw: string | undefined): string {
  const last = (raw ?? '').split(/[\\/]/).pop() ?? '';
  return last.replace(/\p{Cc}/gu, '').trim();
}

/**
 * `{orgId}/{conversation}/{entryId}/{index}-{attachmentId}-{fileName}`. The conversation segment is a
 * hash of the conversation's natural key (channel address + end user): the CRM assigns the
 * conversationIdentifier only once the files are stored, and the end user's id is often a phone number.
 * The attachment id makes every upload its own object, so a retry never overwrites an accepted file.
 */
export function attachmentObjectKey(p: {
  orgId: string;
  channelAddressIdentifier: string;
  endUserClientIdentifier: string;
  entryId: string;
  attachmentIndex: number;
  attachmentId: string;
  fileName: string;
}): string {
  const conversation = createHash('sha256')
    .update(`${p.channelAddressIdentifier}\n${p.endUserClientIdentifier}`)
    .digest('hex')
    .slice(0, 32);
  return [
    safeKeySegment(p.orgId, 'org'),
    conversation,
    safeKeySegment(p.entryId, 'entry'),
    `${p.attachmentIndex}-${p.attachmentId}-${safeKeySegment(p.fileName, 'file')}`,
  ].join('/');
}

/**
 * `{orgId}/unclaimed/{attachmentId}-{fileName}`: where a file that arrived before the `json` part is written
 * while the request that declares it is not known yet. It is moved to its `attachmentObjectKey` once
 * checked, or removed with the refused request.
 */
export function unclaimedObjectKey(p: { orgId: string; attachmentId: string; fileName: string }): string {
  return [safeKeySegment(p.orgId, 'org'), 'unclaimed', `${p.attachmentId}-${safeKeySegment(p.fileName, 'file')}`].join('/');
}
