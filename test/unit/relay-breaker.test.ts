import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SendOutcome } from '../../src/mail/mailer.js';
import { createRelayBreaker, isRelayOutage } from '../../src/mail/relay-breaker.js';

const t0 = new Date('2026-03-03T12:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const failure = (code: string, failureClass: 'transient' | 'permanent' | 'configuration' = 'transient'): SendOutcome => ({
  status: 'failed',
  failureClass,
  code,
  detail: 'x',
  hardBounce: false,
});

describe('what counts as a relay outage', () => {
  it.each([
    ['ECONNREFUSED', true],
    ['ETIMEDOUT', true],
    ['ECONNECTION', true],
    ['ECONNRESET', true],
    ['EDNS', true],
    ['ECONNECTION:421', true],
    ['EENVELOPE:421', true],
    ['EMESSAGE:421', true],
    ['EENVELOPE:451', false],
    ['EENVELOPE:450', false],
    ['EMESSAGE:452', false],
    ['EPROTOCOL', false],
    ['ECLOSED', false],
    ['ENOSPC', false],
  ])('%s → %s', (code, outage) => {
    expect(isRelayOutage(failure(code))).toBe(outage);
  });

  it('a permanent or configuration failure, or a sent message, is never an outage', () => {
    expect(isRelayOutage(failure('EENVELOPE:550', 'permanent'))).toBe(false);
    expect(isRelayOutage(failure('EAUTH:535', 'configuration'))).toBe(false);
    expect(isRelayOutage({ status: 'sent', response: '250 ok' })).toBe(false);
  });
});

describe('relay breaker', () => {
  it('lets everything through while closed', () => {
    const breaker = createRelayBreaker();
    expect(breaker.admit(t0)).toBe('send');
    expect(breaker.state).toBe('closed');
    expect(breaker.probeAt).toBeNull();
  });

  it('opens on an outage, holds sends back, then lets exactly one probe through when it is due', () => {
    const changes: string[] = [];
    const breaker = createRelayBreaker({ minProbeDelayMs: 1_000, maxProbeDelayMs: 8_000, onChange: (state, previous) => changes.push(`${previous}->${state}`) });
    breaker.outage(t0);
    expect(breaker.state).toBe('open');
    expect(breaker.probeAt).toEqual(at(1_000));
    expect(breaker.admit(at(999))).toBe('wait');
    expect(breaker.admit(at(1_000))).toBe('probe');
    expect(breaker.admit(at(1_000))).toBe('wait');
    breaker.reachable();
    expect(breaker.admit(at(1_001))).toBe('send');
    expect(changes).toEqual(['closed->open', 'open->probing', 'probing->closed']);
  });

  it('doubles the pause after each failed probe, up to the cap', () => {
    const breaker = createRelayBreaker({ minProbeDelayMs: 1_000, maxProbeDelayMs: 5_000 });
    let now = 0;
    breaker.outage(at(now));
    const pauses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      now = breaker.probeAt!.getTime() - t0.getTime();
      expect(breaker.admit(at(now))).toBe('probe');
      breaker.outage(at(now));
      pauses.push(breaker.probeAt!.getTime() - t0.getTime() - now);
    }
    expect(pauses).toEqual([2_000, 4_000, 5_000, 5_000, 5_000, 5_000]);
  });

  it('failures of sends already under way when it opened do not push the probe further away', () => {
    const breaker = createRelayBreaker({ minProbeDelayMs: 1_000 });
    breaker.outage(t0);
    breaker.outage(at(500));
    breaker.outage(at(900));
    expect(breaker.probeAt).toEqual(at(1_000));
  });

  it('an abandoned probe leaves the breaker open with the probe still due', () => {
    const breaker = createRelayBreaker({ minProbeDelayMs: 1_000 });
    breaker.outage(t0);
    expect(breaker.admit(at(2_000))).toBe('probe');
    breaker.abandonProbe();
    expect(breaker.state).toBe('open');
    expect(breaker.admit(at(2_000))).toBe('probe');
  });

  it('property: while the relay stays away, probes are never further apart than the cap, and at most one is out at once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 60_000 }), fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 200 }), (min, max, steps) => {
        const breaker = createRelayBreaker({ minProbeDelayMs: min, maxProbeDelayMs: max });
        let now = 0;
        breaker.outage(at(now));
        let lastOutage = now;
        let probing = false;
        for (const step of steps) {
          now += step;
          const admission = breaker.admit(at(now));
          if (admission === 'send') return false;
          if (admission === 'probe') {
            if (probing) return false;
            // The probe was due no later than the cap after the last failure.
            if (breaker.state !== 'probing') return false;
            probing = true;
            if (now - lastOutage > Math.max(min, max) + step) return false;
            breaker.outage(at(now));
            probing = false;
            lastOutage = now;
            if (breaker.probeAt!.getTime() - at(now).getTime() > Math.max(min, max)) return false;
          }
        }
        return true;
      }),
    );
  });
});
