import type { IncomingMessage } from 'node:http';

/*
 * Most `POST /interactions` bodies are a text message: a small multipart body with one part, the `json`
 * field, that has arrived whole by the time the route runs. Setting up multer and busboy (a parser, a
 * header parser and a boundary search, streams and their events) costs more than reading such a body
 * directly. This reads exactly that case and nothing else: anything it is not sure of (a file part, more
 * than one part, another field name, a header it does not know, a preamble or epilogue, a larger body or
 * one still arriving, a malformed body) is "not mine" (undefined), and the request goes to multer as it
 * came, so every refusal stays multer's. What it returns is the `json` field's value exactly as busboy
 * would report it (test/json-only-multipart.test.ts holds the two side by side).
 */

/** Bodies larger than this go to multer (a text message is well under 4 KiB). */
export const MAX_JSON_ONLY_BODY_BYTES = 64 * 1024;

/** RFC 7230 tchar: what busboy accepts in a header name, a media type and an unquoted parameter. */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
/** `multipart/form-data; boundary=...`, the boundary unquoted or quoted without escapes, and no other parameter. */
const MULTIPART_TYPE = new RegExp(
  `^multipart/form-data[ \\t]*;[ \\t]*boundary=(?:"([\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]+)"|(${TOKEN}))[ \\t]*$`,
  'i',
);
/** One header line as busboy's header parser reads it, here held to printable ASCII. */
const HEADER_LINE = new RegExp(`^(${TOKEN}):[ \\t]*([\\x20-\\x7e]*)$`);
/** The disposition of a plain field named `json` (type and parameter name are case-insensitive, the name is not). */
const JSON_FIELD_DISPOSITION = /^([A-Za-z-]+)[ \t]*;[ \t]*([A-Za-z]+)=(?:"json"|json)[ \t]*$/;
/** A part Content-Type busboy reads as a field in UTF-8: not application/octet-stream, charset absent or UTF-8. */
const FIELD_CONTENT_TYPE = /^(?:text\/plain|application\/json)(?:[ \t]*;[ \t]*charset=(?:"utf-?8"|utf-?8))?[ \t]*$/i;
/** Header blocks longer than this are left to busboy (its own bound is 16 KiB). */
const MAX_HEADER_BLOCK = 1024;

/** The boundary of a multipart/form-data Content-Type of the plain form this reads, else undefined. */
export function simpleBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType.length > 200) return undefined;
  const m = MULTIPART_TYPE.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * The value of the body's only part, a `json` field of at most `limitBytes` bytes (UTF-8, as busboy
 * decodes it), when the body is exactly `--B CRLF headers CRLF CRLF value CRLF --B--` with an optional
 * final CRLF; else undefined.
 */
export function jsonOnlyFieldValue(boundary: string, body: Buffer, limitBytes: number): string | undefined {
  const opening = `--${boundary}\r\n`;
  if (body.length > MAX_JSON_ONLY_BODY_BYTES || body.toString('latin1', 0, opening.length) !== opening) return undefined;
  const headersEnd = body.indexOf('\r\n\r\n', opening.length, 'latin1');
  if (headersEnd < 0 || headersEnd - opening.length > MAX_HEADER_BLOCK) return undefined;
  if (!jsonFieldHeaders(body.toString('latin1', opening.length, headersEnd))) return undefined;
  const valueStart = headersEnd + 4;
  // busboy's boundary search runs over the whole body (behind a CRLF of its own): the first delimiter it
  // finds must be the closing one, right after the value, followed by `--` and nothing or a CRLF.
  const delimiter = `\r\n--${boundary}`;
  const close = body.indexOf(delimiter, 0, 'latin1');
  if (close < valueStart) return undefined;
  const tail = body.toString('latin1', close + delimiter.length);
  if (tail !== '--' && tail !== '--\r\n') return undefined;
  if (close - valueStart > limitBytes) return undefined;
  return body.toString('utf8', valueStart, close);
}

/** True when the part's headers are exactly a Content-Disposition of the `json` field and at most a Content-Type of a UTF-8 field. */
function jsonFieldHeaders(block: string): boolean {
  let disposition = false;
  let contentType = false;
  for (const line of block.split('\r\n')) {
    const m = HEADER_LINE.exec(line);
    if (!m) return false;
    const name = (m[1] as string).toLowerCase();
    const value = m[2] as string;
    if (name === 'content-disposition' && !disposition) {
      const d = JSON_FIELD_DISPOSITION.exec(value);
      if (!d || (d[1] as string).toLowerCase() !== 'form-data' || (d[2] as string).toLowerCase() !== 'name') return false;
      disposition = true;
    } else if (name === 'content-type' && !contentType) {
      if (!FIELD_CONTENT_TYPE.test(value)) return false;
      contentType = true;
    } else return false;
  }
  return disposition;
}

/**
 * The `json` field's value when the request is one this reads (see above) and its body is already all in
 * the request's buffer, unread; else undefined, with the request as it was (what was taken is put back at
 * once, before the stream could end), for multer to read.
 */
export function bufferedJsonOnlyField(req: IncomingMessage, limitBytes: number): string | undefined {
  if (req.readableFlowing !== null || req.readableLength === 0 || req.readableLength > MAX_JSON_ONLY_BODY_BYTES) return undefined;
  // All of it is here when the buffer holds Content-Length bytes: the route usually runs before the
  // parser has marked the message complete (microtasks run between its body and completion callbacks).
  if (!req.complete && req.readableLength !== Number(req.headers['content-length'])) return undefined;
  const boundary = simpleBoundary(req.headers['content-type']);
  if (boundary === undefined) return undefined;
  const body = req.read() as Buffer | null;
  if (body === null) return undefined;
  const value = jsonOnlyFieldValue(boundary, body, limitBytes);
  if (value === undefined) req.unshift(body);
  return value;
}
