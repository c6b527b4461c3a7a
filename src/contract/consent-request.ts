import { badRequest } from './api-error.ts';
import { ErrorCode } from './error-codes.ts';
import { jsonBodyObject } from './json-body.ts';

export const CONSENT_STATUSES = ['OptedOut', 'ImplicitlyOptedIn', 'ExplicitlyOptedIn', 'DoublyOptedIn'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** `PATCH /api/v1/consent`, validated. */
export interface ConsentRequest {
  endUserClientId: string;
  channelAddressIdentifier: string;
  consentStatus: ConsentStatus;
}

export function validateConsentRequest(raw: unknown): ConsentRequest {
  const body = jsonBodyObject(raw);
  const { endUserClientId, channelAddressIdentifier, consentStatus } = body;
  if (typeof endUserClientId !== 'string' || endUserClientId.trim() === '' || endUserClientId.length > 240) {
    throw badRequest(
      ErrorCode.InvalidEndUserClientId,
      '"endUserClientId" must be the end user\'s client identifier: a non-empty string of at most 240 characters.',
    );
  }
  if (typeof channelAddressIdentifier !== 'string' || channelAddressIdentifier.trim() === '' || channelAddressIdentifier.length > 240) {
    throw badRequest(
      ErrorCode.UnknownChannel,
      '"channelAddressIdentifier" must be a channel address identifier: a non-empty string of at most 240 characters.',
    );
  }
  if (!CONSENT_STATUSES.includes(consentStatus as never)) {
    throw badRequest(
      ErrorCode.InvalidConsentStatus,
      `"consentStatus" must be one of ${CONSENT_STATUSES.join(', ')}; got ${JSON.stringify(consentStatus ?? null)}.`,
    );
  }
  return { endUserClientId, channelAddressIdentifier, consentStatus: consentStatus as ConsentStatus };
}
