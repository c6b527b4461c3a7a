/**
 * The one error type of the Interaction API: an HTTP status, an Interaction API error code and a message
 * for people, rendered as `{"code": ..., "message": ...}`. Raised by name from the catalog
 * (`apiError(...)` in interaction-errors.ts), which ties each code to its status.
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

  /** The same refusal with response headers (e.g. Retry-After). */
  withHeaders(headers: Record<string, string>): ApiError {
    return new ApiError(this.status, this.code, this.message, { ...this.headers, ...headers });
  }

  toBody(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }
}
