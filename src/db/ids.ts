import { randomFillSync } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';

// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness. Within one millisecond a
// 12-bit counter keeps ids from this process strictly increasing, so rows inserted in one
// transaction sort in the order they were made.
let lastMillis = -1;
let counter = 0;

// Random bytes drawn a pool at a time: one call to the system's generator per 256 ids.
const POOL_SIZE = 16 * 256;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomSixteen(): Buffer {
  if (poolOffset >= POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return bytes;
}

export function newId(): string {
  let millis = Date.now();
  if (millis <= lastMillis) {
    counter += 1;
    if (counter > 0xfff) {
      // Out of room in this millisecond: borrow the next one rather than repeat an order.
      lastMillis += 1;
      counter = 0;
    }
    millis = lastMillis;
  } else {
    lastMillis = millis;
    counter = 0;
  }
  const bytes = randomSixteen();
  bytes.writeUIntBE(millis, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids from a request are checked before they reach SQL: a malformed one is simply not found. */
export function isId(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** `= ANY` of a list of ids: one array parameter, whatever the list's length, so one plan for every batch. */
export function anyId(ids: readonly string[]): RawBuilder<string> {
  return sql<string>`any(${ids}::uuid[])`;
}
