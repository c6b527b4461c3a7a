import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApiError } from '../contract/api-error.ts';
import { apiError } from '../contract/interaction-errors.ts';
import { isStoreInputError } from '../store/input-errors.ts';
import { closeAfterAnswer } from './close-after-answer.ts';

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
    if (!req.complete) closeAfterAnswer(req, res);
    res.set(known.headers).status(known.status).json(known.toBody());
  };
}

/** What express, its body parser and the store throw because of the input, in the words of an API's catalog. */
export interface BodyParserRefusals<E> {
  malformedJson: () => E;
  tooLarge: (limitBytes: number | undefined) => E;
  /** A store error caused by the values a request carried (see store/input-errors.ts): never a 500. */
  unstorable: () => E;
  unsupportedEncoding: (problem: string) => E;
  unreadable: (problem: string) => E;
  internal: () => E;
}

export function fromBodyParser<E>(err: unknown, refusals: BodyParserRefusals<E>): E {
  if (isStoreInputError(err)) return refusals.unstorable();
  const e = err as { type?: string; status?: number; message?: string; limit?: number } | null | undefined;
  if (e?.type === 'entity.parse.failed') return refusals.malformedJson();
  if (e?.type === 'entity.too.large') return refusals.tooLarge(e.limit);
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
        tooLarge: (limitBytes) =>
          limitBytes === undefined
            ? apiError('RequestTooLarge', { what: 'The request body' })
            : apiError('BodyTooLarge', { what: 'The request body', limitBytes }),
        unstorable: () => apiError('UnstorableValue'),
        unsupportedEncoding: (problem) => apiError('UnsupportedContentType', { expected: `a supported charset and encoding (${problem})` }),
        unreadable: (problem) => apiError('UnreadableRequest', { problem }),
        internal: () => apiError('Internal'),
      }),
);
