import type { SendOutcome } from './mailer.js';

// A circuit breaker in front of the mail relay. When the relay cannot be reached (connection
// refused, timeouts, 421 "service not available"), sending every queued message into it only
// burns their attempts: the breaker opens instead, and the worker holds its messages back. It
// lets one message through as a probe after a delay that doubles on each failed probe, up to a
// cap, so sending resumes within that cap of the relay's return. Any answer from the relay that
// is about a message (sent, or refused with a 4xx/5xx of its own) closes it again.
//
// The state machine reads no clock: callers pass `now`.

export type BreakerState = 'closed' | 'open' | 'probing';

export interface RelayBreakerOptions {
  /** The first pause after the relay goes away. Default 1 s. */
  minProbeDelayMs?: number;
  /** The longest pause between probes: sending resumes at most this long after the relay is back. Default 30 s. */
  maxProbeDelayMs?: number;
  /** Called on every change of state (metrics, logs). */
  onChange?: (state: BreakerState, previous: BreakerState) => void;
}

export type Admission = 'send' | 'probe' | 'wait';

export const DEFAULT_MIN_PROBE_DELAY_MS = 1_000;
export const DEFAULT_MAX_PROBE_DELAY_MS = 30_000;

/** SMTP reply codes that mean the relay itself is unavailable, whatever the message. */
const OUTAGE_REPLY_CODES = new Set([421]);

// Codes of failures to reach or keep a session with the relay: nothing about a message.
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EPIPE',
]);

/** Whether a failed send says the relay is away (an outage) rather than something about the message. */
export function isRelayOutage(outcome: SendOutcome): boolean {
  if (outcome.status !== 'failed' || outcome.failureClass !== 'transient') return false;
  const [code, reply] = outcome.code.split(':');
  if (reply !== undefined) return OUTAGE_REPLY_CODES.has(Number(reply));
  return OUTAGE_CODES.has(code!);
}

export interface RelayBreaker {
  readonly state: BreakerState;
  /** When the next probe may go (open), else null. */
  readonly probeAt: Date | null;
  /** May a message go now? 'probe' hands the caller the single probe slot: it must report back. */
  admit(now: Date): Admission;
  /** The relay took a message, or answered about one: it is there. */
  reachable(): void;
  /** A send failed because the relay is away. */
  outage(now: Date): void;
  /** The probe slot's holder did not send after all (shutting down, lease too short). */
  abandonProbe(): void;
}

export function createRelayBreaker(options: RelayBreakerOptions = {}): RelayBreaker {
  const minDelay = options.minProbeDelayMs ?? DEFAULT_MIN_PROBE_DELAY_MS;
  const maxDelay = Math.max(minDelay, options.maxProbeDelayMs ?? DEFAULT_MAX_PROBE_DELAY_MS);
  let state: BreakerState = 'closed';
  let delay = 0;
  let probeAt: Date | null = null;
  const move = (next: BreakerState) => {
    if (next === state) return;
    const previous = state;
    state = next;
    options.onChange?.(next, previous);
  };
  return {
    get state() {
      return state;
    },
    get probeAt() {
      return state === 'open' ? probeAt : null;
    },
    admit(now) {
      if (state === 'closed') return 'send';
      if (state === 'open' && probeAt !== null && now.getTime() >= probeAt.getTime()) {
        move('probing');
        return 'probe';
      }
      return 'wait';
    },
    reachable() {
      delay = 0;
      probeAt = null;
      move('closed');
    },
    outage(now) {
      // Sends that were already under way when the breaker opened fail too: only the first
      // failure and failed probes move the next probe further away.
      if (state === 'open') return;
      delay = state === 'probing' ? Math.min(maxDelay, delay * 2) : minDelay;
      probeAt = new Date(now.getTime() + delay);
      move('open');
    },
    abandonProbe() {
      if (state === 'probing') move('open');
    },
  };
}
