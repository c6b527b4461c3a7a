import type { ErrorRequestHandler, RequestHandler } from 'express';
import { MulterError } from 'multer';
import { ApiError } from '../contract/api-error.ts';
import { ErrorCode } from '../contract/error-codes.ts';
import { isStoreInputError } from '../store/input-errors.ts';
import { closeAfterAnswer } from './close-after-answer.ts';

/** Unknown routes answer 404 in the API's error shape. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, ErrorCode.NotFound, `There is no ${req.method} ${req.path} operation.`));
};

/** Turns anything thrown into `{"code", "message"}` with the right status; never a stack trace. */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const apiError = toApiError(err);
  if (apiError.status >= 500) req.log?.error({ err }, 'request failed');
  else res.locals.refusal = { code: apiError.code, message: apiError.message };
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (!req.complete) closeAfterAnswer(req, res);
  res.set(apiError.headers).status(apiError.status).json(apiError.toBody());
};

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isStoreInputError(err)) {
    return new ApiError(
      400,
      ErrorCode.InvalidParameters,
      'The request holds a value that cannot be stored (a control character or a number out of range).',
    );
  }
  if (err instanceof MulterError) {
    if (
      err.code === 'LIMIT_FIELD_VALUE' ||
      err.code === 'LIMIT_FIELD_KEY' ||
      err.code === 'LIMIT_PART_COUNT' ||
      err.code === 'LIMIT_FIELD_COUNT'
    ) {
      return new ApiError(413, ErrorCode.PayloadTooLarge, 'The multipart request has too many or too large parts.');
    }
    if (err.code === 'LIMIT_UNEXPECTED_FILE') {
      return new ApiError(400, ErrorCode.AttachmentCountMismatch, `Unexpected file part "${err.field ?? ''}".`);
    }
    return new ApiError(400, ErrorCode.InvalidParameters, `The multipart request is not valid: ${err.message}.`);
  }
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed') return new ApiError(400, ErrorCode.EmptyRequestBody, 'The request body is not valid JSON.');
  if (e?.type === 'entity.too.large') {
    return new ApiError(
      400,
      ErrorCode.InvalidParameters,
      `The request body is larger than the limit of ${String((e as { limit?: number }).limit)} bytes.`,
    );
  }
  if (e?.message?.startsWith('Multipart:') || e?.message === 'Unexpected end of form') {
    return new ApiError(400, ErrorCode.InvalidParameters, `The multipart body is malformed: ${e.message}.`);
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError(e.status, e.status, 'The request could not be read.');
  }
  return new ApiError(500, ErrorCode.Internal, 'An internal error occurred. The request may be retried with the same RequestId.');
}
