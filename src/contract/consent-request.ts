import { apiError } from './interaction-errors.ts';
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
    throw apiError('InvalidEndUserClientId');
  }
  if (typeof channelAddressIdentifier !== 'string' || channelAddressIdentifier.trim() === '' || channelAddressIdentifier.length > 240) {
    throw apiError('InvalidChannelAddressIdentifier');
  }
  if (!CONSENT_STATUSES.includes(consentStatus as never)) {
    throw apiError('InvalidConsentStatus', { allowed: CONSENT_STATUSES, value: consentStatus });
  }
  return { endUserClientId, channelAddressIdentifier, consentStatus: consentStatus as ConsentStatus };
}
