import type { Kysely } from 'kysely';
import { deleteOldSendSlots, takeSendSlot } from '../db/send-slots.js';
import type { Database } from '../db/schema.js';

// SMTP_MAX_PER_SECOND: a relay's rate limit (SES starts at 14 messages a second), shared by every
// worker process through the database. A message waits for a place before it is handed over;
// waiting is not a failure, costs no attempt, and its lease is kept alive by the dispatch's
// heartbeat meanwhile.
//
// A second is cut into slots of about a tenth of a second, each allowing its share of the rate:
// at 50 a second, 5 in each 100 ms. Any one-second span then meets at most 11 slots, so a relay
// counting over a sliding second sees at most 10 % more than the limit, and never a whole
// second's worth in one burst at the start of a second.

/** Slots per second (about): the finer, the smoother the flow, the more often waiting senders ask again. */
const SLOTS_PER_SECOND = 10;
/** Old slots are deleted every this many places taken by this process. */
const CLEANUP_EVERY = 500;
const KEEP_SLOTS_MS = 60_000;

export interface SendRateLimit {
  readonly perSecond: number;
  /** Resolves when a message may be handed over; rejects if `signal` aborts while waiting. */
  take(signal?: AbortSignal): Promise<void>;
}

/** The slot length and places per slot for a rate: whole places, slots of about a tenth of a second or longer. */
export function sendSlotsFor(perSecond: number): { slotMs: number; perSlot: number } {
  const perSlot = Math.max(1, Math.ceil(perSecond / SLOTS_PER_SECOND));
  return { slotMs: (1000 * perSlot) / perSecond, perSlot };
}

export function createSendRateLimit(db: Kysely<Database>, perSecond: number, random: () => number = Math.random): SendRateLimit {
  const { slotMs, perSlot } = sendSlotsFor(perSecond);
  let taken = 0;
  return {
    perSecond,
    async take(signal) {
      for (;;) {
        signal?.throwIfAborted();
        const place = await takeSendSlot(db, slotMs, perSlot);
        if (place.taken) {
          taken += 1;
          if (taken % CLEANUP_EVERY === 0) void deleteOldSendSlots(db, slotMs, KEEP_SLOTS_MS).catch(() => {});
          return;
        }
        // The slot is full: ask again as the next one begins, the senders of all processes spread
        // over its first few milliseconds rather than arriving at once.
        await sleep(place.nextSlotInMs + random() * Math.min(5, slotMs / 10), signal);
      }
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    };
    const aborted = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
