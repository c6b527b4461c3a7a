import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApiError } from '../contract/api-error.ts';
import { apiError } from '../contract/interaction-errors.ts';

/** What an error handler can send: a status, response headers and the `{"code", "message"}` body. */
export interface RenderableError {
  readonly status: number;
  readonly headers: Record<string, string>;
  toBody(): { code: number | string; message: string };
}

/** An unknown route, in the API's error shape. */
export function notFoundHandler(refusal: (method: string, path: string) => Error): RequestHandler {
  return (req, _res, next) => {
    next(refusal(req.method, req.path));
  };
}

/**
 * Turns anything thrown into `{"code", "message"}` with the right status, never a stack trace. `toKnown`
 * maps the thrown value to one of the API's errors (each API has its own catalog).
 */
export function errorHandler(toKnown: (err: unknown) => RenderableError): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = toKnown(err);
    if (known.status >= 500) req.log.error({ err }, 'request failed');
    else res.locals.refusal = known.toBody();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.set(known.headers).status(known.status).json(known.toBody());
  };
}

/** What express and its body parser throw, in the words of an API's catalog. */
export interface BodyParserRefusals<E> {
  malformedJson: () => E;
  tooLarge: () => E;
  unsupportedEncoding: (problem: string) => E;
  unreadable: (problem: string) => E;
  internal: () => E;
}

export function fromBodyParser<E>(err: unknown, refusals: BodyParserRefusals<E>): E {
  const e = err as { type?: string; status?: number; message?: string } | null | undefined;
  if (e?.type === 'entity.parse.failed') return refusals.malformedJson();
  if (e?.type === 'entity.too.large') return refusals.tooLarge();
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported') return refusals.unsupportedEncoding(e.message ?? '');
  if (e?.message?.startsWith('Multipart:') || e?.message === 'Unexpected end of form') return refusals.unreadable(e.message);
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return refusals.unreadable(e.message ?? 'unreadable');
  return refusals.internal();
}

export const interactionNotFound = notFoundHandler((method, path) => apiError('NoSuchOperation', { method, path }));

export const interactionErrorHandler = errorHandler((err) =>
  err instanceof ApiError
    ? err
    : fromBodyParser(err, {
        malformedJson: () => apiError('MalformedBody', { problem: 'the request body is not valid JSON' }),
        tooLarge: () => apiError('RequestTooLarge', { what: 'The request body' }),
        unsupportedEncoding: (problem) => apiError('UnsupportedContentType', { expected: `a supported charset and encoding (${problem})` }),
        unreadable: (problem) => apiError('UnreadableRequest', { problem }),
        internal: () => apiError('Internal'),
      }),
);
