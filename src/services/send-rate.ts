import type { Kysely } from 'kysely';
import { deleteOldSendSlots, takeSendSlot } from '../db/send-slots.js';
import type { Database } from '../db/schema.js';

// SMTP_MAX_PER_SECOND: a relay's rate limit (SES starts at 14 messages a second), shared by every
// worker process through the database. A message waits for a place before it is handed over;
// waiting is not a failure, costs no attempt, and its lease is kept alive by the dispatch's
// heartbeat meanwhile.
//
// A second is cut into slots of a tenth of a second, each allowing its share of the rate (at 50 a
// second, 5 in each 100 ms), and any run of 11 slots (all that a one-second span can meet)
// allows the rate once: a relay counting over a sliding second sees at most the limit from us,
// with room left for the jitter of the network and the relay's own clock. The price is a flow a
// little under the limit on average (10/11 of it: about 45 a second at 50).

/** Slots per second: the finer, the smoother the flow, the more often waiting senders ask again. */
const SLOTS_PER_SECOND = 10;
const SLOT_MS = 1000 / SLOTS_PER_SECOND;
/** Old slots are deleted every this many places taken by this process. */
const CLEANUP_EVERY = 500;
const KEEP_SLOTS_MS = 60_000;

export interface SendRateLimit {
  readonly perSecond: number;
  /** Resolves when a message may be handed over; rejects if `signal` aborts while waiting. */
  take(signal?: AbortSignal): Promise<void>;
}

export interface SendSlots {
  slotMs: number;
  perSlot: number;
  /** The most slots a one-second span meets. */
  windowSlots: number;
  /** Places in any run of windowSlots slots: the rate itself. */
  perWindow: number;
}

/**
 * The slots for a rate: a tenth of a second each, with whole places (its share of the rate,
 * rounded up, so a slow rate still gets one), and the rate itself for any run of 11 slots, the
 * most a half-open second [t, t + 1 s) can meet.
 */
export function sendSlotsFor(perSecond: number): SendSlots {
  return { slotMs: SLOT_MS, perSlot: Math.max(1, Math.ceil(perSecond / SLOTS_PER_SECOND)), windowSlots: SLOTS_PER_SECOND + 1, perWindow: perSecond };
}

export function createSendRateLimit(db: Kysely<Database>, perSecond: number, random: () => number = Math.random): SendRateLimit {
  const slots = sendSlotsFor(perSecond);
  const { slotMs } = slots;
  let taken = 0;
  return {
    perSecond,
    async take(signal) {
      for (;;) {
        signal?.throwIfAborted();
        const place = await takeSendSlot(db, slots);
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
