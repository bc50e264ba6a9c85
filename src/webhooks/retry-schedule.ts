// When a failed webhook delivery is tried again (API.md): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
// 10 h after the first try, then the delivery is dead and only a manual redelivery sends it.

export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];

/** The first try plus one per retry delay. */
export const WEBHOOK_MAX_ATTEMPTS = 1 + WEBHOOK_RETRY_DELAYS_MS.length;

/** ±10 %: spreads retries of many deliveries that failed together (a partner outage). */
export const WEBHOOK_RETRY_JITTER = 0.1;

/** Longest wait a `Retry-After` can impose; beyond a day the partner is as good as dead. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export interface NextAttemptInput {
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attemptsMade: number;
  now: Date;
  /** From a 429/503 `Retry-After`, or null. */
  retryAfterMs: number | null;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  random: () => number;
}

/**
 * When to try a failed delivery again, or null when the retries are used up (dead).
 *
 * Retry-After policy: the wait is max(jittered schedule delay, Retry-After), Retry-After capped at
 * 24 h. A server asking for a longer pause gets it; one asking for a shorter pause still waits the
 * schedule, so a misbehaving `Retry-After: 0` cannot turn the backoff into a tight loop. Retry-After
 * never adds attempts: after the last retry the delivery is dead regardless.
 */
export function nextWebhookAttemptAt(input: NextAttemptInput): Date | null {
  const { attemptsMade } = input;
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be a positive integer, got ${attemptsMade}`);
  }
  const scheduled = WEBHOOK_RETRY_DELAYS_MS[attemptsMade - 1];
  if (scheduled === undefined) return null;
  const delay = Math.max(withJitter(scheduled, input.random()), clampRetryAfter(input.retryAfterMs));
  return new Date(input.now.getTime() + delay);
}

function withJitter(delayMs: number, random: number): number {
  // Clamp a misbehaving random source so the result stays within ±10 % and is never negative.
  const unit = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1) : 0.5;
  const factor = 1 - WEBHOOK_RETRY_JITTER + 2 * WEBHOOK_RETRY_JITTER * unit;
  return Math.max(0, Math.round(delayMs * factor));
}

function clampRetryAfter(retryAfterMs: number | null): number {
  if (retryAfterMs === null || Number.isNaN(retryAfterMs) || retryAfterMs <= 0) return 0;
  return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
}
