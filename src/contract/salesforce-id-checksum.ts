const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * The three characters Salesforce appends to a 15-character id to make it case-safe: each encodes, as a
 * 5-bit mask, which of five characters are upper case.
 */
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
 * Whether an id of 15 or 18 alphanumeric characters is well formed: a 15-character id always is; an
 * 18-character one when its suffix is the checksum of its first 15 (the suffix is read case-insensitively,
 * as Salesforce does).
 */
export function hasValidSalesforceIdChecksum(id: string): boolean {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id)) return false;
  return id.length === 15 || id.slice(15).toUpperCase() === salesforceIdChecksum(id.slice(0, 15));
}
