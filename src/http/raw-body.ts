import type { IncomingMessage } from 'node:http';

const rawBodies = new WeakMap<IncomingMessage, string>();

/**
 * express.json()'s `verify` hook: keeps the body's text as it arrived, beside the parsed value, so bridge
 * mode forwards what the partner sent rather than a re-serialization of it.
 */
export function keepRawBody(req: IncomingMessage, _res: unknown, body: Buffer, encoding: string): void {
  rawBodies.set(req, new TextDecoder(encoding).decode(body));
}

/** The text of a body express.json() read; undefined when it read none (no JSON content type). */
export function rawBodyOf(req: IncomingMessage): string | undefined {
  return rawBodies.get(req);
}
