import { randomUUID } from 'node:crypto';

export interface MultipartPart {
  name: string;
  contentType?: string;
  filename?: string;
  /** Text, bytes, or a factory of a fresh byte stream (called once per body built). */
  value: string | Uint8Array | (() => AsyncIterable<Uint8Array>);
}

/** A multipart/form-data body streamed part by part, so files are never held in memory whole. */
export function multipartBody(parts: MultipartPart[]): { contentType: string; data: ReadableStream<Uint8Array> } {
  const boundary = `----byoc-bridge-${randomUUID()}`;
  const encoder = new TextEncoder();
  async function* generate(): AsyncGenerator<Uint8Array, void> {
    for (const part of parts) {
      const disposition = `form-data; name="${escapeQuoted(part.name)}"${part.filename !== undefined ? `; filename="${escapeQuoted(part.filename)}"` : ''}`;
      yield encoder.encode(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.contentType ? `Content-Type: ${part.contentType}\r\n` : ''}\r\n`,
      );
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
  return { contentType: `multipart/form-data; boundary=${boundary}`, data };
}

const escapeQuoted = (s: string) => s.replace(/["\\\r\n]/g, (c) => encodeURIComponent(c));
