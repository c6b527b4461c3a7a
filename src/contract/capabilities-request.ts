import { apiError } from './interaction-errors.ts';
import { FORMAT_TYPES, MESSAGE_TYPES } from './interaction-request.ts';
import { isJsonObject, jsonBodyObject, type JsonObject } from './json-body.ts';
import { APP_TYPES } from './participant.ts';

export const PROGRESS_INDICATOR_TYPES = ['ProgressUpdateIndicator'] as const;
export const CHANNEL_TYPES = ['custom'] as const;
export const CAPABILITY_ENCODINGS = ['UTF8', 'GSM', 'UCS2'] as const;

/** The fields each custom integration type requires (names of at most 240 characters). */
const INTEGRATION_FIELDS: Record<string, readonly string[]> = {
  CustomChannelIntegration: ['conversationChannelDefinitionDevName', 'integrationNamespace'],
  CustomBotIntegration: ['extConvParticipantIntegDefDevName', 'integrationNamespace'],
};

const isInteger = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
/** The fields each field restriction type requires, with the test each value must pass and what it must be. */
const RESTRICTION_FIELDS: Record<string, Record<string, [check: (v: unknown) => boolean, rule: string]>> = {
  StringFieldRestriction: {
    encoding: [(v) => CAPABILITY_ENCODINGS.includes(v as never), `must be one of ${CAPABILITY_ENCODINGS.join(', ')}`],
    maxLength: [isInteger, 'must be an integer'],
  },
  MimeTypeRestriction: { mimeType: [(v) => typeof v === 'string', 'must be a MIME type'] },
  FileSizeRestriction: { maxSizeInKb: [isInteger, 'must be an integer'] },
  DimensionRestriction: {
    dimensionType: [(v) => v === 'PIXEL' || v === 'RATIO', 'must be PIXEL or RATIO'],
    x: [isNumber, 'must be a number'],
    y: [isNumber, 'must be a number'],
  },
  ArrayRestriction: { maxItems: [isInteger, 'must be an integer'] },
  RequiredFieldRestriction: { fieldRequired: [(v) => typeof v === 'boolean', 'must be true or false'] },
  TypeRestriction: { type: [(v) => typeof v === 'string', 'must be a string'] },
};

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
    const at = `${where}.formatTypeCapabilities[${k}]`;
    const format = objectAt(f, at);
    if (!FORMAT_TYPES.includes(format.formatType as never)) {
      throw apiError('InvalidFormatType', { where: at, formatType: format.formatType });
    }
    if (format.capabilityFieldRestriction === undefined) return;
    if (!Array.isArray(format.capabilityFieldRestriction)) {
      throw apiError('InvalidParameter', { field: `${at}.capabilityFieldRestriction`, rule: 'must be a list' });
    }
    format.capabilityFieldRestriction.forEach((r: unknown, n) => checkFieldRestriction(r, `${at}.capabilityFieldRestriction[${n}]`));
  });
}

function checkFieldRestriction(value: unknown, where: string) {
  const item = objectAt(value, where);
  if (typeof item.fieldJsonPath !== 'string' || item.fieldJsonPath.trim() === '') {
    throw apiError('InvalidParameter', { field: `${where}.fieldJsonPath`, rule: 'is required: the JSONPath of the field restricted' });
  }
  const restriction = objectAt(item.restriction, `${where}.restriction`);
  const fields = RESTRICTION_FIELDS[restriction.fieldRestrictionType as string];
  if (!fields) {
    throw apiError('InvalidParameter', {
      field: `${where}.restriction.fieldRestrictionType`,
      rule: `must be one of ${Object.keys(RESTRICTION_FIELDS).join(', ')}`,
    });
  }
  for (const [field, [check, rule]] of Object.entries(fields)) {
    if (!check(restriction[field])) throw apiError('InvalidParameter', { field: `${where}.restriction.${field}`, rule });
  }
}

function checkCustomIntegration(value: unknown, where: string) {
  if (!isJsonObject(value)) throw apiError('InvalidCustomIntegration', { where, rule: 'it must be an object' });
  const fields = INTEGRATION_FIELDS[value.customIntegrationType as string];
  if (!fields) {
    throw apiError('InvalidCustomIntegration', {
      where,
      rule: `customIntegrationType must be one of ${Object.keys(INTEGRATION_FIELDS).join(', ')}`,
    });
  }
  for (const field of fields) {
    const name = value[field];
    if (typeof name !== 'string' || name.trim() === '' || name.length > 240) {
      throw apiError('InvalidCustomIntegration', { where, rule: `${field} is required, a name of at most 240 characters` });
    }
  }
}

export function validateCapabilitiesRequest(raw: unknown): CapabilitiesRequest {
  const capabilities = objectAt(jsonBodyObject(raw).capabilities, 'capabilities');
  if (!APP_TYPES.includes(capabilities.appType as never)) {
    throw apiError('InvalidAppType', { where: 'capabilities', allowed: APP_TYPES, value: capabilities.appType });
  }
  const channelCapabilities = nonEmptyList(capabilities.channelCapabilities, 'capabilities.channelCapabilities').map((c, i) => {
    const where = `capabilities.channelCapabilities[${i}]`;
    const channel = objectAt(c, where);
    if (channel.channelType !== undefined && !CHANNEL_TYPES.includes(channel.channelType as never)) {
      throw apiError('InvalidParameter', { field: `${where}.channelType`, rule: `must be one of ${CHANNEL_TYPES.join(', ')}` });
    }
    if (channel.customIntegration !== undefined) checkCustomIntegration(channel.customIntegration, `${where}.customIntegration`);
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
