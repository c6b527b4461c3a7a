import type { EntryInteraction, InteractionRequest, JsonObject } from './interaction-request.ts';

/*
 * The most common body of `POST /interactions` by far, an end user's plain text message, checked by hand:
 * validateInteractionRequest builds zod parse contexts for it (the timestamp, the message's common fields,
 * the Text content), which cost more than the rest of its validation. Exactly one shape is recognised, and
 * only when every rule of validateInteractionRequest visibly holds for it; anything else, valid or not, is
 * "not sure" (undefined) and goes through validateInteractionRequest, so every refusal keeps its code and
 * message. It returns what validateInteractionRequest returns for the same input (test/plain-text-
 * interaction.test.ts holds the two side by side).
 */

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonBlank = (v: unknown, maxLength: number): v is string => typeof v === 'string' && v.length <= maxLength && v.trim() !== '';

/** The request when it is certainly a valid plain text message, else undefined (not "invalid": unknown). */
export function plainTextInteraction(raw: unknown): InteractionRequest | undefined {
  if (!isObject(raw)) return undefined;
  const { to, from, interactions, routingAttributes } = raw;
  if (!isNonBlank(to, 240) || !isNonBlank(from, 255)) return undefined;
  let attributes: Record<string, string> | undefined;
  if (routingAttributes !== undefined && routingAttributes !== null) {
    attributes = stringRecord(routingAttributes);
    if (attributes === undefined) return undefined;
  }
  if (!Array.isArray(interactions) || interactions.length !== 1) return undefined;
  const interaction: unknown = interactions[0];
  if (!isObject(interaction) || interaction.interactionType !== 'EntryInteraction') return undefined;
  const { timestamp, payload } = interaction;
  // As the zod schema's `count`: a non-negative safe integer (a numeric string is left to it).
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) return undefined;
  if (!isObject(payload) || payload.entryType !== 'Message' || !isNonBlank(payload.id, Infinity)) return undefined;
  const message = payload.abstractMessage;
  if (!isObject(message) || message.messageType !== 'StaticContentMessage' || message.id !== payload.id) return undefined;
  // The message's common fields: absent, or of the simplest valid kind.
  if (message.inReplyToMessageId !== undefined && typeof message.inReplyToMessageId !== 'string') return undefined;
  if (message.customHandlingType !== undefined && message.customHandlingType !== 'None' && message.customHandlingType !== 'Survey') {
    return undefined;
  }
  if (message.references !== undefined) return undefined;
  const content = message.staticContent;
  if (!isObject(content) || content.formatType !== 'Text' || typeof content.text !== 'string') return undefined;
  const entry: EntryInteraction = { interactionType: 'EntryInteraction', timestamp, entryType: 'Message', entryId: payload.id, payload };
  return { to, from, ...(attributes ? { routingAttributes: attributes } : {}), interactions: [entry] };
}

/** A copy of an object whose values are all strings (what the zod record yields), else undefined. */
function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!isObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const copy: Record<string, string> = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    // "__proto__" as an own key (JSON.parse makes one) is left to zod rather than reasoned about here.
    if (typeof v !== 'string' || key === '__proto__') return undefined;
    copy[key] = v;
  }
  return copy;
}
