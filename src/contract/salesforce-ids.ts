import { randomInt } from 'node:crypto';

/*
 * Salesforce record ids, the one place that knows their rules: 15 case-sensitive letters and digits, or
 * the 18-character case-safe form (the 15 plus a three-character checksum of their upper-case letters);
 * the first three characters are the key prefix naming the object.
 */

/** Key prefixes of the objects the API and the local org name by id. */
export const KeyPrefix = {
  Org: '00D',
  User: '005',
  Queue: '00G',
  Flow: '300',
  MessagingSession: '0Mw',
  AgentWork: '0Bz',
  PendingServiceRouting: '0JR',
} as const;

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_SHAPE = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;
const FIFTEEN_CHAR_ID = /^[a-zA-Z0-9]{15}$/;

/**
 * 15 or 18 letters and digits (optionally starting with `prefix`), without checking the checksum: what a
 * client or a setting may send, leaving it to the record lookup to say whether such a record exists.
 */
export function hasSalesforceIdShape(value: unknown, prefix?: string): value is string {
  return typeof value === 'string' && ID_SHAPE.test(value) && (prefix === undefined || value.startsWith(prefix));
}

/** Exactly the 15-character form (the contract takes work item ids only so). */
export function isFifteenCharId(value: unknown): value is string {
  return typeof value === 'string' && FIFTEEN_CHAR_ID.test(value);
}

/** A well-formed id: the right shape and, in the 18-character form, the right checksum. */
export function isSalesforceId(value: string, prefix?: string): boolean {
  if (!/^[a-zA-Z0-9]{15}([A-Z0-5]{3})?$/.test(value)) return false;
  if (value.length === 18 && toEighteenCharId(value.slice(0, 15)) !== value) return false;
  return prefix === undefined || value.startsWith(prefix);
}

/** The three characters Salesforce appends to a 15-character id: each encodes, as a 5-bit mask, which of five characters are upper case. */
export function salesforceIdChecksum(fifteen: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = fifteen.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/**
 * Whether an id of the right shape carries a right checksum: a 15-character id has none to check; an
 * 18-character one when its suffix is the checksum of its first 15, read case-insensitively as Salesforce
 * does (what a client sends, where isSalesforceId judges the ids the bridge makes).
 */
export function hasValidChecksum(id: string): boolean {
  if (!ID_SHAPE.test(id)) return false;
  return id.length === 15 || id.slice(15).toUpperCase() === salesforceIdChecksum(id.slice(0, 15));
}

/** Salesforce's case-safe 18-character form: three suffix characters encode which of the 15 are upper case. */
export function toEighteenCharId(id: string): string {
  if (id.length === 18) return id;
  if (id.length !== 15) throw new Error(`not a 15-character Salesforce id: ${id}`);
  return id + salesforceIdChecksum(id);
}

export function toFifteenCharId(id: string): string {
  return id.slice(0, 15);
}

/** True when `a` and `b` name the same record (15- and 18-character forms compare equal). */
export function sameSalesforceId(a: string, b: string): boolean {
  return a.slice(0, 15) === b.slice(0, 15);
}

/** A new random 18-character id with the given key prefix (e.g. `KeyPrefix.MessagingSession`). */
export function newSalesforceId(prefix: string): string {
  let body = '';
  for (let i = 0; i < 10; i++) body += BASE62.charAt(randomInt(62));
  return toEighteenCharId(`${prefix}5g${body}`);
}
