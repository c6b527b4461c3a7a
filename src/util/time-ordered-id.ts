import { randomBytes } from 'node:crypto';

/** Random bytes drawn at once, for this many ids: one call into the CSPRNG per batch rather than per id. */
const POOL_IDS = 256;
/** Two to seed the counter, eight for rand_b. */
const RANDOM_BYTES_PER_ID = 10;
const COUNTER_MAX = 0xfff;

/** A counter's random start, below half its range so that increments rarely run it out. */
const seed = (bits: Buffer) => ((bits[0]! << 8) | bits[1]!) & (COUNTER_MAX >> 1);

/**
 * A UUIDv7 generator (RFC 9562): 48 bits of Unix milliseconds, the version, a 12-bit counter (the RFC's
 * method 1, fixed-length dedicated counter), the variant and 62 random bits. Ids made later sort after
 * earlier ones, as strings too, so rows keyed by them are appended at the end of a B-tree index instead
 * of splitting pages all over it as random UUIDv4 keys do. Within a millisecond the counter orders them:
 * it starts at a random value below half its range and, should it run out, the timestamp moves on by one;
 * a clock that steps back keeps the last timestamp, so the order holds across that too.
 */
export function timeOrderedIds(clock: () => number = Date.now): () => string {
  let pool = Buffer.alloc(0);
  let offset = 0;
  let lastMs = -1;
  let counter = 0;
  const random = (): Buffer => {
    if (offset >= pool.length) {
      pool = randomBytes(POOL_IDS * RANDOM_BYTES_PER_ID);
      offset = 0;
    }
    offset += RANDOM_BYTES_PER_ID;
    return pool.subarray(offset - RANDOM_BYTES_PER_ID, offset);
  };
  return () => {
    const bits = random();
    let ms = clock();
    if (ms > lastMs) {
      counter = seed(bits);
    } else {
      ms = lastMs;
      counter++;
      if (counter > COUNTER_MAX) {
        ms++;
        counter = seed(bits);
      }
    }
    lastMs = ms;
    const id = Buffer.allocUnsafe(16);
    id.writeUIntBE(ms, 0, 6);
    id[6] = 0x70 | (counter >> 8);
    id[7] = counter & 0xff;
    bits.copy(id, 8, 2, 10);
    // The variant (10) over rand_b's first two bits.
    id[8] = 0x80 | (id[8]! & 0x3f);
    const hex = id.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}

/** This process's UUIDv7 ids. */
export const timeOrderedId = timeOrderedIds();
