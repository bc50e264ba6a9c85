import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_AFTER_MS,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_DELAYS_MS,
  nextWebhookAttemptAt,
} from '../../../src/webhooks/retry-schedule.js';

const now = new Date('2025-06-01T12:00:00.000Z');
const middle = () => 0.5; // no jitter
const delayAfter = (attemptsMade: number, retryAfterMs: number | null = null, random = middle) => {
  const at = nextWebhookAttemptAt({ attemptsMade, now, retryAfterMs, random });
  return at === null ? null : at.getTime() - now.getTime();
};

describe('webhook retry schedule', () => {
  it('is the API.md schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    const s = 1000;
    const h = 3600 * s;
    expect(WEBHOOK_RETRY_DELAYS_MS).toEqual([5 * s, 5 * 60 * s, 30 * 60 * s, 2 * h, 5 * h, 10 * h, 10 * h]);
    expect(WEBHOOK_MAX_ATTEMPTS).toBe(8);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => delayAfter(n))).toEqual(WEBHOOK_RETRY_DELAYS_MS);
  });

  it('is dead after the first try plus seven retries', () => {
    expect(delayAfter(7)).toBe(36_000_000);
    expect(delayAfter(8)).toBeNull();
    expect(delayAfter(9)).toBeNull();
    expect(delayAfter(8, 60_000)).toBeNull(); // Retry-After adds no attempts
  });

  it('rejects a nonsensical attempt count', () => {
    expect(() => delayAfter(0)).toThrow(RangeError);
    expect(() => delayAfter(1.5)).toThrow(RangeError);
  });

  it('jitters by at most ±10 %, never negative', () => {
    expect(delayAfter(1, null, () => 0)).toBe(4_500);
    expect(delayAfter(1, null, () => 0.999_999)).toBeCloseTo(5_500, -1);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, r) => {
        const base = WEBHOOK_RETRY_DELAYS_MS[attempts - 1]!;
        const delay = delayAfter(attempts, null, () => r)!;
        return delay >= base * 0.9 - 1 && delay <= base * 1.1 + 1 && delay >= 0;
      }),
    );
  });

  it('stays within bounds even with a misbehaving random source', () => {
    expect(delayAfter(2, null, () => -5)).toBe(270_000);
    expect(delayAfter(2, null, () => 7)).toBe(330_000);
    expect(delayAfter(2, null, () => Number.NaN)).toBe(300_000);
  });

  it('honours a longer Retry-After, exactly and without jitter', () => {
    expect(delayAfter(1, 120_000, () => 0.99)).toBe(120_000);
    expect(delayAfter(2, 3_600_000)).toBe(3_600_000);
  });

  it('keeps the schedule when Retry-After asks for less (no tight loops)', () => {
    expect(delayAfter(3, 1_000)).toBe(1_800_000);
    expect(delayAfter(1, 0)).toBe(5_000);
    expect(delayAfter(1, -10_000)).toBe(5_000);
  });

  it('caps Retry-After at 24 h', () => {
    expect(delayAfter(1, 10 * MAX_RETRY_AFTER_MS)).toBe(MAX_RETRY_AFTER_MS);
    expect(delayAfter(1, Number.POSITIVE_INFINITY)).toBe(MAX_RETRY_AFTER_MS);
    expect(delayAfter(1, Number.NaN)).toBe(5_000);
  });
});
