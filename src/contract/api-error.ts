/**
 * The one error type of the Interaction API: an HTTP status, an Interaction API error code
 * (see ERROR_CODES) and a message for people. Rendered as `{"code": ..., "message": ...}`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const badRequest = (code: number, message: string) => new ApiError(400, code, message);
export const unauthorized = (code: number, message: string) => new ApiError(401, code, message);
export const forbidden = (code: number, message: string) => new ApiError(403, code, message);
export const notFound = (code: number, message: string) => new ApiError(404, code, message);
