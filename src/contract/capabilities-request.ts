import { apiError } from './interaction-errors.ts';
import { FORMAT_TYPES, MESSAGE_TYPES } from './interaction-request.ts';
import { isJsonObject, jsonBodyObject, type JsonObject } from './json-body.ts';
import { APP_TYPES } from './participant.ts';

export const PROGRESS_INDICATOR_TYPES = ['ProgressUpdateIndicator'] as const;

/** `PATCH /api/v1/capabilities`, validated: what the channel's app can render, kept as sent beyond what is checked. */
export interface CapabilitiesRequest {
  appType: (typeof APP_TYPES)[number];
  channelCapabilities: JsonObject[];
}

const nonEmptyList = (value: unknown, field: string): unknown[] => {
  if (!Array.isArray(value) || value.length === 0) throw apiError('InvalidParameter', { field, rule: 'must be a non-empty list' });
  return value;
};

const objectAt = (value: unknown, field: string): JsonObject => {
  if (!isJsonObject(value)) throw apiError('InvalidParameter', { field, rule: 'must be an object' });
  return value;
};

function checkFormatTypes(value: unknown, where: string) {
  nonEmptyList(value, `${where}.formatTypeCapabilities`).forEach((f, k) => {
    const format = objectAt(f, `${where}.formatTypeCapabilities[${k}]`);
    if (!FORMAT_TYPES.includes(format.formatType as never)) {
      throw apiError('InvalidFormatType', { where: `${where}.formatTypeCapabilities[${k}]`, formatType: format.formatType });
    }
  });
}

export function validateCapabilitiesRequest(raw: unknown): CapabilitiesRequest {
  const capabilities = objectAt(jsonBodyObject(raw).capabilities, 'capabilities');
  if (!APP_TYPES.includes(capabilities.appType as never)) {
    throw apiError('InvalidAppType', { where: 'capabilities', allowed: APP_TYPES, value: capabilities.appType });
  }
  const channelCapabilities = nonEmptyList(capabilities.channelCapabilities, 'capabilities.channelCapabilities').map((c, i) => {
    const where = `capabilities.channelCapabilities[${i}]`;
    const channel = objectAt(c, where);
    nonEmptyList(channel.messageTypeCapabilities, `${where}.messageTypeCapabilities`).forEach((m, j) => {
      const at = `${where}.messageTypeCapabilities[${j}]`;
      const messageType = objectAt(m, at);
      if (!MESSAGE_TYPES.includes(messageType.messageType as never)) {
        throw apiError('InvalidCapabilityMessageType', { where: at, allowed: MESSAGE_TYPES, value: messageType.messageType });
      }
      checkFormatTypes(messageType.formatTypeCapabilities, at);
    });
    if (channel.progressIndicatorTypeCapabilities !== undefined) {
      const list = channel.progressIndicatorTypeCapabilities;
      if (!Array.isArray(list) || list.length === 0) throw apiError('EmptyProgressIndicatorCapabilities', { where });
      list.forEach((p: unknown, j) => {
        const at = `${where}.progressIndicatorTypeCapabilities[${j}]`;
        const progress = objectAt(p, at);
        if (!PROGRESS_INDICATOR_TYPES.includes(progress.progressIndicatorType as never)) {
          throw apiError('InvalidParameter', {
            field: `${at}.progressIndicatorType`,
            rule: `must be one of ${PROGRESS_INDICATOR_TYPES.join(', ')}`,
          });
        }
        checkFormatTypes(progress.formatTypeCapabilities, at);
      });
    }
    return channel;
  });
  return { appType: capabilities.appType as CapabilitiesRequest['appType'], channelCapabilities };
}
