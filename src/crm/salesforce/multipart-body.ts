import { randomUUID } from 'node:crypto';

export interface MultipartPart {
  name: string;
  contentType?: string;
  filename?: string;
  /** Text, bytes, or a factory of a fresh byte stream (called once per body built). */
  value: string | Uint8Array | (() => AsyncIterable<Uint8Array>);
}

/**
 * A multipart/form-data body: text when every part is text (a message: sent with its length, in the
 * same write as the request's headers), in one piece when it has no file streams, else streamed part by
 * part, so files are never held in memory whole.
 */
export function multipartBody(parts: MultipartPart[]): {
  contentType: string;
  data: string | Uint8Array | ReadableStream<Uint8Array>;
} {
  const boundary = `----byoc-bridge-${randomUUID()}`;
  const contentType = `multipart/form-data; boundary=${boundary}`;
  if (parts.every((p) => typeof p.value === 'string')) {
    let text = '';
    for (const part of parts) text += `${partHeader(boundary, part)}${part.value as string}\r\n`;
    return { contentType, data: `${text}--${boundary}--\r\n` };
  }
  if (parts.every((p) => typeof p.value !== 'function')) {
    const pieces = parts.flatMap((part) => [
      Buffer.from(partHeader(boundary, part)),
      typeof part.value === 'string' ? Buffer.from(part.value) : (part.value as Uint8Array),
      Buffer.from('\r\n'),
    ]);
    return { contentType, data: Buffer.concat([...pieces, Buffer.from(`--${boundary}--\r\n`)]) };
  }
  const encoder = new TextEncoder();
  async function* generate(): AsyncGenerator<Uint8Array, void> {
    for (const part of parts) {
      yield encoder.encode(partHeader(boundary, part));
      if (typeof part.value === 'string') yield encoder.encode(part.value);
      else if (part.value instanceof Uint8Array) yield part.value;
      else for await (const chunk of part.value()) yield chunk;
      yield encoder.encode('\r\n');
    }
    yield encoder.encode(`--${boundary}--\r\n`);
  }
  const iterator = generate();
  const data = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
  return { contentType, data };
}

function partHeader(boundary: string, part: MultipartPart): string {
  const disposition = `form-data; name="${escapeQuoted(part.name)}"${part.filename !== undefined ? `; filename="${escapeQuoted(part.filename)}"` : ''}`;
  return `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.contentType ? `Content-Type: ${part.contentType}\r\n` : ''}\r\n`;
}

const escapeQuoted = (s: string) => s.replace(/["\\\r\n]/g, (c) => encodeURIComponent(c));
