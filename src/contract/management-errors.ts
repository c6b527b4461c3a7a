/*
 * The management API's own refusals (port 7080), separate from the Interaction API's numeric codes: it is
 * our API, so its codes are short strings an operator's script can branch on. Each code has one status.
 */

export const MANAGEMENT_ERROR_CODES = {
  invalid_request: 400,
  unauthorized: 401,
  end_user_opted_out: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  internal: 500,
} as const;

export type ManagementErrorCode = keyof typeof MANAGEMENT_ERROR_CODES;

export class ManagementError extends Error {
  readonly status: number;
  readonly headers: Record<string, string> = {};

  constructor(
    readonly code: ManagementErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ManagementError';
    this.status = MANAGEMENT_ERROR_CODES[code];
  }

  toBody(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const managementError = (code: ManagementErrorCode, message: string) => new ManagementError(code, message);
