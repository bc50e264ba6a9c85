import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sendSlotsFor } from '../../src/services/send-rate.js';

// SMTP_MAX_PER_SECOND is cut into slots of whole places; the slots are what every worker
// process counts in the database.
describe('send slots', () => {
  it.each([
    [1, { slotMs: 1000, perSlot: 1 }],
    [14, { slotMs: 142.857, perSlot: 2 }],
    [50, { slotMs: 100, perSlot: 5 }],
    [1000, { slotMs: 100, perSlot: 100 }],
  ])('%i a second: %o', (perSecond, expected) => {
    const slots = sendSlotsFor(perSecond);
    expect(slots.perSlot).toBe(expected.perSlot);
    expect(slots.slotMs).toBeCloseTo(expected.slotMs, 2);
  });

  it('average exactly the limit, slots of at least a tenth of a second, and a sliding second that meets at most 10 % more at 10 a second and above', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (perSecond) => {
        const { slotMs, perSlot } = sendSlotsFor(perSecond);
        expect((perSlot * 1000) / slotMs).toBeCloseTo(perSecond, 6);
        expect(slotMs).toBeGreaterThanOrEqual(100 - 1e-9);
        // A one-second span meets at most ceil(1000 / slotMs) + 1 slots.
        const most = (Math.ceil(1000 / slotMs - 1e-9) + 1) * perSlot;
        if (perSecond >= 10 && perSecond % 10 === 0) expect(most).toBeLessThanOrEqual(Math.round(perSecond * 1.1));
        expect(most).toBeLessThanOrEqual(perSecond + 2 * perSlot);
      }),
    );
  });
});
