import { randomInt } from 'node:crypto';

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Salesforce's case-safe 18-character form: three suffix characters encode which of the 15 are upper case. */
export function toEighteenCharId(id: string): string {
  if (id.length === 18) return id;
  if (id.length !== 15) throw new Error(`not a 15-character Salesforce id: ${id}`);
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return id + suffix;
}

export function toFifteenCharId(id: string): string {
  return id.slice(0, 15);
}

/** True when `a` and `b` name the same record (15- and 18-character forms compare equal). */
export function sameSalesforceId(a: string, b: string): boolean {
  return a.slice(0, 15) === b.slice(0, 15);
}

export function isSalesforceId(value: string, prefix?: string): boolean {
  if (!/^[a-zA-Z0-9]{15}([A-Z0-5]{3})?$/.test(value)) return false;
  if (value.length === 18 && toEighteenCharId(value.slice(0, 15)) !== value) return false;
  return prefix === undefined || value.startsWith(prefix);
}

/** A new random 18-character id with the given three-character key prefix (e.g. `0Mw` for a messaging session). */
export function newSalesforceId(prefix: string): string {
  let body = '';
  for (let i = 0; i < 10; i++) body += BASE62.charAt(randomInt(62));
  return toEighteenCharId(`${prefix}5g${body}`);
}
