/** A file of an interaction request, stored in the bucket and checked against its AttachmentInteraction. */
export interface StoredAttachment {
  /** Ours, unique: names the attachment in the entry, in the object key and in the download link. */
  id: string;
  /** The AttachmentInteraction the file belongs to (its `id`) and its position among the files. */
  interactionId: string;
  attachmentIndex: number;
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
  bucket: string;
  objectKey: string;
  /** Where the object is: `s3://bucket/key`. */
  url: string;
}

/** What a conversation entry records of each attachment. */
export function attachmentDescriptor(a: StoredAttachment) {
  return { id: a.id, name: a.name, mimeType: a.mimeType, size: a.size, sha256: a.sha256, url: a.url };
}
