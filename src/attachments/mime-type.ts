import { fileTypeFromBuffer } from 'file-type';

/**
 * How many leading bytes content detection looks at: always exactly this many (or the whole file), so the
 * answer does not depend on how the network cut the stream. More than file-type's 4100-byte minimum, which
 * is not enough for formats it recognises by walking their structure (ZIP-based Office files, for one).
 */
export const MIME_SAMPLE_BYTES = 64 * 1024;

/**
 * Types that say nothing about the content. `text/plain` is among them because it is also what a
 * multipart part without a Content-Type header reads as (RFC 7578), so it is checked against the bytes.
 */
const GENERIC_TYPES = new Set([
  '',
  'application/octet-stream',
  'binary/octet-stream',
  'application/unknown',
  'application/x-unknown',
  'application/binary',
  'text/plain',
]);

/**
 * The MIME type to store: the client's when it is specific, otherwise detected from the first bytes
 * (magic numbers, then "is it UTF-8 text"). Undefined when neither gives an answer.
 */
export async function resolveMimeType(clientType: string | undefined, sample: Buffer): Promise<string | undefined> {
  const declared = (clientType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!GENERIC_TYPES.has(declared) && /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(declared)) return declared;
  const detected = await fileTypeFromBuffer(sample);
  if (detected) return detected.mime;
  if (looksLikeText(sample)) return 'text/plain';
  return undefined;
}

function looksLikeText(sample: Buffer): boolean {
  if (sample.length === 0) return false;
  // A multi-byte character may be cut at the end of the sample.
  for (let cut = 0; cut <= 3 && cut < sample.length; cut++) {
    const text = decodeUtf8(sample.subarray(0, sample.length - cut));
    // Control characters other than tab, newline, form feed and carriage return mark binary content.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point here
    if (text !== undefined) return !/[\u0000-\u0008\u000e-\u001a\u001c-\u001f\u007f]/.test(text);
  }
  return false;
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
