// Properties of the plan builder over random interviews, panels, policies, zones and `now`,
// with many dates falling in the DST weeks of several zones.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildPlan, isSuppressed, type PlanInput } from '../../../src/domain/plan-builder.js';
import { contactIdOf, evaluate, stepZone } from '../../../src/domain/evaluate.js';
import { addBusinessDays, isBusinessMoment } from '../../../src/domain/calendar.js';
import { parsePolicyDocument, type PolicyDocument, type Weekday } from '../../../src/domain/policy-document.js';
import type { Channel, InterviewFacts, InterviewerFacts, PlannedStep, SentRecord } from '../../../src/domain/types.js';
import { asSent, asStored } from './fixtures.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Sydney',
  'Asia/Tokyo',
  'Europe/London',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  'Pacific/Chatham',
] as const;

/** DST changes in Berlin, New York and Sydney (2025 and 2026). */
const DST_CHANGES = [
  '2025-03-30T01:00:00Z',
  '2025-10-26T01:00:00Z',
  '2025-03-09T07:00:00Z',
  '2025-11-02T06:00:00Z',
  '2025-04-05T16:00:00Z',
  '2025-10-04T16:00:00Z',
  '2026-03-29T01:00:00Z',
  '2026-03-08T07:00:00Z',
  '2026-04-04T16:00:00Z',
].map((iso) => new Date(iso).getTime());

const WEEKDAYS: Weekday[] = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];
const CHANNELS: Channel[] = ['email', 'sms', 'linkedin', 'phone', 'handwritten'];

/** True `times` out of `outOf`. */
function chance(times: number, outOf: number): fc.Arbitrary<boolean> {
  return fc.integer({ min: 1, max: outOf }).map((roll) => roll <= times);
}

/** `arbitrary` in `present` cases out of `present + absent`, else null. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, present: number, absent: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: present, arbitrary }, { weight: absent, arbitrary: fc.constant(null) });
}

const zoneOrNull = sometimes(fc.constantFrom(...ZONES), 2, 1);
const channelOrNull = sometimes(fc.constantFrom(...CHANNELS), 1, 2);
const approval = fc.constantFrom('auto' as const, 'review' as const);

/** An interview end: anywhere in 2025–2026, or in the week around a DST change. */
const interviewEnd = fc.oneof(
  fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2026, 11, 31) }),
  fc.tuple(fc.constantFrom(...DST_CHANGES), fc.integer({ min: -7 * DAY_MS, max: 3 * DAY_MS })).map(([change, offset]) => change + offset),
).map((ms) => new Date(Math.floor(ms / 60_000) * 60_000));

const businessHours = fc.oneof(
  { weight: 1, arbitrary: fc.constant('always' as const) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        days: fc.subarray(WEEKDAYS, { minLength: 1 }),
        startHour: fc.integer({ min: 0, max: 12 }),
        hours: fc.integer({ min: 1, max: 11 }),
        startMinute: fc.constantFrom(0, 30),
      })
      .map(({ days, startHour, hours, startMinute }) => ({
        days,
        start: `${String(startHour).padStart(2, '0')}:${String(startMinute).padStart(2, '0')}`,
        end: `${String(startHour + hours).padStart(2, '0')}:${String(startMinute).padStart(2, '0')}`,
      })),
  },
);

function policyArbitrary(endsAt: Date): fc.Arbitrary<PolicyDocument> {
  const nearbyDate = fc.integer({ min: -2, max: 60 }).map((days) => new Date(endsAt.getTime() + days * DAY_MS).toISOString().slice(0, 10));
  return fc
    .record({
      businessHours,
      holidays: fc.uniqueArray(nearbyDate, { maxLength: 8 }),
      thankYou: fc
        .record({ enabled: chance(6, 7), delayMinutes: fc.integer({ min: 0, max: 600 }), deadlineHours: fc.integer({ min: 0, max: 72 }), extraGrace: fc.integer({ min: 0, max: 72 }), approval })
        .map(({ extraGrace, ...rest }) => ({ ...rest, graceHours: rest.deadlineHours + extraGrace })),
      checkIn: fc.record({ enabled: chance(5, 6), afterDays: fc.integer({ min: 0, max: 21 }), afterDecisionBusinessDays: fc.integer({ min: 0, max: 5 }), windowDays: fc.integer({ min: 0, max: 7 }), approval }),
      finalCheckIn: fc.record({ enabled: chance(5, 6), afterDays: fc.integer({ min: 0, max: 30 }), approval }),
      callTask: fc.record({ enabled: chance(5, 6), afterHours: fc.integer({ min: 0, max: 72 }), approval }),
      keepInTouch: fc.record({ enabled: fc.boolean(), afterDays: fc.integer({ min: 0, max: 10 }), approval }),
      respondToConcerns: fc.record({ approval }),
      maxMessagesPerRecipient: fc.integer({ min: 1, max: 5 }),
      minSpacingBusinessDays: fc.integer({ min: 0, max: 10 }),
      handwrittenMinDaysToDecision: fc.integer({ min: 0, max: 10 }),
    })
    .map((document) => {
      const parsed = parsePolicyDocument(document);
      if (!parsed.ok) throw new Error(`generator made an invalid policy: ${parsed.message}`);
      return parsed.document;
    });
}

function interviewerArbitrary(id: string): fc.Arbitrary<InterviewerFacts> {
  return fc.record({
    id: fc.constant(id),
    name: fc.constant(`Interviewer ${id}`),
    email: sometimes(fc.constant(`${id}@employer.example`), 7, 1),
    phone: sometimes(fc.constant(`+1 212 555 01${id.slice(-2)}`), 1, 1),
    title: fc.constant(null),
    timezone: zoneOrNull,
    preferredChannel: channelOrNull,
    isPrimaryContact: chance(1, 4),
  });
}

interface Scenario {
  input: PlanInput;
  now: Date;
}

const scenario: fc.Arbitrary<Scenario> = interviewEnd.chain((endsAt) =>
  fc
    .record({
      policy: policyArbitrary(endsAt),
      interviewers: fc.integer({ min: 1, max: 4 }).chain((count) => fc.tuple(...Array.from({ length: count }, (_, index) => interviewerArbitrary(`iv-${10 + index}`)))),
      interviewZone: fc.constantFrom(...ZONES),
      company: fc.record({
        name: fc.constant('Acme'),
        preferredChannel: channelOrNull,
        followUpStyle: fc.constantFrom(...(['standard', 'standard', 'standard', 'standard', 'standard', 'standard', 'thank_you_only', 'none'] as const)),
        timezone: zoneOrNull,
      }),
      candidateZone: zoneOrNull,
      channel: channelOrNull,
      decisionInHours: sometimes(fc.integer({ min: -48, max: 24 * 21 }), 1, 1),
      callBackInHours: sometimes(fc.integer({ min: 0, max: 24 * 7 }), 1, 2),
      outcome: sometimes(fc.constantFrom('offer' as const, 'hired' as const, 'rejected' as const), 1, 5),
      outcomeInHours: fc.integer({ min: 0, max: 24 * 10 }),
      employerReplied: chance(1, 8),
      suppressFirst: chance(1, 8),
      thankedFirst: fc.boolean(),
      // Mostly around the interview, sometimes a recomputation days later.
      nowInHours: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: -72, max: 24 }) }, { weight: 1, arbitrary: fc.integer({ min: 24, max: 24 * 20 }) }),
    })
    .map((generated): Scenario => {
      const hoursAfterEnd = (hours: number): Date => new Date(endsAt.getTime() + hours * HOUR_MS);
      const now = hoursAfterEnd(generated.nowInHours);
      const interview: InterviewFacts = {
        id: 'int-prop',
        positionTitle: 'Data Engineer',
        startsAt: new Date(endsAt.getTime() - HOUR_MS),
        endsAt,
        timezone: generated.interviewZone,
        channel: generated.channel,
        decisionExpectedBy: generated.decisionInHours === null ? null : hoursAfterEnd(generated.decisionInHours),
        callBackExpectedBy: generated.callBackInHours === null ? null : hoursAfterEnd(generated.callBackInHours),
        topics: [],
        status: 'scheduled',
        outcome: generated.outcome,
        outcomeAt: generated.outcome === null ? null : hoursAfterEnd(generated.outcomeInHours),
        company: generated.company,
        candidate: { id: 'cand', name: 'Sam Candidate', email: 'sam@candidate.example', phone: null, timezone: generated.candidateZone, consent: true, linkedinUrl: null, signature: null },
        interviewers: generated.interviewers,
      };
      const first = generated.interviewers[0];
      const thankedAt = hoursAfterEnd(3);
      const sent: SentRecord[] =
        generated.thankedFirst && first !== undefined && thankedAt < now
          ? [{ stepId: 's1', kind: 'thank_you', interviewerId: first.id, channel: 'email', sentAt: thankedAt }]
          : [];
      return {
        now,
        input: {
          interview,
          policy: generated.policy,
          sent,
          replies: generated.employerReplied ? [{ fromEmail: 'recruiter@employer.example', receivedAt: hoursAfterEnd(30), raisesConcerns: false }] : [],
          suppressedAddresses: generated.suppressFirst && first?.email ? [first.email] : [],
        },
      };
    }),
);

const RUNS = { numRuns: 300 };

function scheduled(plan: PlannedStep[]): PlannedStep[] {
  return plan.filter((step) => step.status === 'scheduled');
}

describe('plan properties', () => {
  it('T6 no recipient gets more than maxMessagesPerRecipient messages', () => {
    fc.assert(
      fc.property(scenario, ({ input, now }) => {
        const counts = new Map<string, number>();
        const records = [...input.sent, ...scheduled(buildPlan(input, now)).map(asSent)];
        for (const record of records) {
          const contact = contactIdOf(record.kind, record.interviewerId, input.interview);
          if (contact !== null) counts.set(contact, (counts.get(contact) ?? 0) + 1);
        }
        for (const count of counts.values()) expect(count).toBeLessThanOrEqual(input.policy.maxMessagesPerRecipient);
      }),
      RUNS,
    );
  });

  it('T5 no two messages to one recipient closer than the spacing in business days', () => {
    fc.assert(
      fc.property(scenario, ({ input, now }) => {
        const plan = scheduled(buildPlan(input, now));
        const history: SentRecord[] = [...input.sent];
        for (const step of plan) {
          const contact = contactIdOf(step.kind, step.recipient.interviewerId, input.interview);
          const earlier = history.filter((record) => contact !== null && contactIdOf(record.kind, record.interviewerId, input.interview) === contact);
          for (const record of earlier) {
            const allowedFrom = addBusinessDays(record.sentAt, input.policy.minSpacingBusinessDays, stepZone(step, input.interview), input.policy);
            expect(step.dueAt.getTime()).toBeGreaterThanOrEqual(allowedFrom.getTime());
          }
          history.push(asSent(step));
        }
      }),
      RUNS,
    );
  });

  it("T2 every scheduled step is due at a business moment in the recipient's zone, not before now", () => {
    fc.assert(
      fc.property(scenario, ({ input, now }) => {
        for (const step of scheduled(buildPlan(input, now))) {
          expect(isBusinessMoment(step.dueAt, stepZone(step, input.interview), input.policy)).toBe(true);
          expect(step.dueAt.getTime()).toBeGreaterThanOrEqual(now.getTime());
          if (step.windowEndsAt !== null) expect(step.dueAt.getTime()).toBeLessThanOrEqual(step.windowEndsAt.getTime());
        }
      }),
      RUNS,
    );
  });

  it('buildPlan is deterministic and in plan order', () => {
    fc.assert(
      fc.property(scenario, ({ input, now }) => {
        const first = buildPlan(input, now);
        expect(buildPlan(structuredClone(input), new Date(now.getTime()))).toEqual(first);
        for (let index = 1; index < first.length; index += 1) {
          expect(first[index]!.dueAt.getTime()).toBeGreaterThanOrEqual(first[index - 1]!.dueAt.getTime());
        }
        expect(new Set(first.map((step) => step.key)).size).toBe(first.length);
      }),
      RUNS,
    );
  });

  it('evaluate at each scheduled dueAt, with the earlier steps sent, sends (or holds for approval)', () => {
    fc.assert(
      fc.property(scenario, ({ input, now }) => {
        const plan = scheduled(buildPlan(input, now));
        plan.forEach((step, index) => {
          const facts = {
            interview: input.interview,
            policy: input.policy,
            planStatus: 'active' as const,
            sent: [...input.sent, ...plan.slice(0, index).map(asSent)],
            pending: plan.slice(index + 1).map(asStored),
            replies: input.replies,
            recipientSuppressed: isSuppressed(step.recipient, input.suppressedAddresses),
          };
          const decision = evaluate(asStored(step), facts, step.dueAt);
          if (decision.type === 'hold') {
            expect(decision.reason).toBe('awaiting_approval');
            const approved = evaluate({ ...asStored(step), approved: true }, facts, step.dueAt);
            expect(approved).toMatchObject({ type: 'send', channel: step.channel });
          } else {
            expect(decision).toMatchObject({ type: 'send', channel: step.channel });
          }
        });
      }),
      RUNS,
    );
  });

  it('S6 without consent the schedule is the same, each step warned', () => {
    fc.assert(
      fc.property(scenario, ({ input, now }) => {
        const withConsent = buildPlan(input, now);
        const interview = { ...input.interview, candidate: { ...input.interview.candidate, consent: false } };
        const withoutConsent = buildPlan({ ...input, interview }, now);
        expect(withoutConsent.map((step) => [step.key, step.status, step.dueAt])).toEqual(withConsent.map((step) => [step.key, step.status, step.dueAt]));
        for (const step of scheduled(withoutConsent)) expect(step.rules.some((rule) => rule.rule === 'S6' && rule.outcome === 'block')).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
