import { errorHandler, fromBodyParser, notFoundHandler } from '../http/error-handler.ts';
import { managementError, ManagementError } from '../contract/management-errors.ts';

/** The management API's unknown routes and error rendering, in its own error set. */
export const managementNotFound = notFoundHandler((method, path) =>
  managementError('not_found', `There is no ${method} ${path} in the management API.`),
);

export const managementErrorHandler = errorHandler((err) =>
  err instanceof ManagementError
    ? err
    : fromBodyParser(err, {
        malformedJson: () => managementError('invalid_request', 'The request body is not valid JSON.'),
        tooLarge: () => managementError('payload_too_large', 'The request body is too large.'),
        unstorable: () =>
          managementError(
            'invalid_request',
            'The request holds a value that cannot be stored (a control character or a number out of range).',
          ),
        unsupportedEncoding: (problem) => managementError('invalid_request', `The request body cannot be decoded: ${problem}.`),
        unreadable: (problem) => managementError('invalid_request', `The request cannot be read: ${problem}.`),
        internal: () => managementError('internal', 'An internal error occurred.'),
      }),
);
