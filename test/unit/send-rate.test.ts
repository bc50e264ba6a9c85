import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sendSlotsFor } from '../../src/services/send-rate.js';

// SMTP_MAX_PER_SECOND is cut into slots of whole places; the slots are what every worker
// process counts in the database.
describe('send slots', () => {
  it.each([
    [1, 1],
    [14, 2],
    [50, 5],
    [1000, 100],
  ])('%i a second: %i in each tenth of a second, the rate in any 11 tenths', (perSecond, perSlot) => {
    expect(sendSlotsFor(perSecond)).toEqual({ slotMs: 100, perSlot, windowSlots: 11, perWindow: perSecond });
  });

  /** Senders that always want more, taking every place the rules leave (what takeSendSlot allows). */
  function greedy(perSecond: number, slotsToRun: number): number[] {
    const { perSlot, windowSlots, perWindow } = sendSlotsFor(perSecond);
    const taken: number[] = [];
    for (let slot = 0; slot < slotsToRun; slot += 1) {
      const earlier = taken.slice(Math.max(0, slot - windowSlots + 1)).reduce((sum, n) => sum + n, 0);
      taken.push(Math.max(0, Math.min(perSlot, perWindow - earlier)));
    }
    return taken;
  }

  it('no one-second span meets more than the rate, and the flow keeps to at least 9/10 of it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 0, max: 99 }), (perSecond, offsetMs) => {
        const { slotMs } = sendSlotsFor(perSecond);
        const taken = greedy(perSecond, 220);
        // Places of a slot may be taken anywhere in it: a span [t, t + 1000) meets the slots from
        // the one t falls in to the one t + 999 falls in.
        for (let first = 0; first + 11 <= taken.length; first += 1) {
          const start = first * slotMs + offsetMs;
          const last = Math.floor((start + 999) / slotMs);
          const met = taken.slice(first, last + 1).reduce((sum, n) => sum + n, 0);
          expect(met).toBeLessThanOrEqual(perSecond);
        }
        const perSecondOnAverage = (taken.reduce((sum, n) => sum + n, 0) * 1000) / (taken.length * slotMs);
        expect(perSecondOnAverage).toBeGreaterThanOrEqual(perSecond * 0.9);
      }),
    );
  });
});
