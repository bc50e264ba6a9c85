import { describe, expect, it } from 'vitest';
import { buildPlan, isSuppressed, normalizeAddress, type PlanInput } from '../../../src/domain/plan-builder.js';
import { evaluate } from '../../../src/domain/evaluate.js';
import { stepKey } from '../../../src/domain/step-key.js';
import type { InterviewFacts, PlannedStep } from '../../../src/domain/types.js';
import type { PolicyDocument } from '../../../src/domain/policy-document.js';
import { asSent, asStored, at, interviewFacts, interviewer, local, policyWith, sentRecord, stepByKey } from './fixtures.js';

const PARIS = 'Europe/Paris';
const NEW_YORK = 'America/New_York';
const TOKYO = 'Asia/Tokyo';

function plan(interview: InterviewFacts, options: Partial<Omit<PlanInput, 'interview'>> & { now?: Date } = {}): PlannedStep[] {
  const { now, ...rest } = options;
  return buildPlan(
    { interview, policy: policyWith(), sent: [], replies: [], suppressedAddresses: [], ...rest },
    now ?? new Date(interview.startsAt.getTime() - 86_400_000),
  );
}

/** `key status@local-time` lines: the shape of a plan at a glance. */
function outline(steps: PlannedStep[]): string[] {
  return steps.map((step) => {
    const zone = step.recipient.timezone ?? 'UTC';
    const status = step.status === 'scheduled' ? 'scheduled' : `skipped(${step.reason})`;
    return `${step.key} ${status} ${local(step.dueAt, zone)}`;
  });
}

describe('T1 thank-you window', () => {
  it.each<[string, InterviewFacts, string, string | null]>([
    ['a Friday-evening interview sends Monday morning', interviewFacts({ endsAtLocal: '2025-03-07 18:00' }), 'Mon 2025-03-10 09:00', 'Tue 2025-03-11 18:00'],
    ['a Wednesday-morning interview sends two hours later', interviewFacts({ endsAtLocal: '2025-03-05 11:00' }), 'Wed 2025-03-05 13:00', 'Fri 2025-03-07 11:00'],
    ['a late-afternoon interview sends the next morning', interviewFacts({ endsAtLocal: '2025-03-05 16:00' }), 'Thu 2025-03-06 09:00', 'Fri 2025-03-07 16:00'],
    [
      'a Friday interview before Easter Monday sends Tuesday; the clock skips the holiday',
      interviewFacts({ endsAtLocal: '2025-04-18 18:00' }),
      'Tue 2025-04-22 09:00',
      'Wed 2025-04-23 18:00',
    ],
  ])('%s', (_name, interview, expectedDue, expectedGraceEnd) => {
    const policy = policyWith({ holidays: ['2025-04-21'] });
    const step = stepByKey(plan(interview, { policy }), 'thank_you:alice');
    expect(step.status).toBe('scheduled');
    expect(local(step.dueAt, PARIS)).toBe(expectedDue);
    expect(step.windowEndsAt && local(step.windowEndsAt, PARIS)).toBe(expectedGraceEnd);
    expect(step.rules[0]).toMatchObject({ rule: 'T1', outcome: 'adjust', detail: expect.stringContaining('2 h after the interview ended') });
  });

  it('an interview in Tokyo with an interviewer in New York follows New York hours', () => {
    const interview = interviewFacts({
      timezone: TOKYO,
      endsAtLocal: '2025-03-07 11:00', // Thursday 21:00 in New York
      interviewers: [interviewer('alice', { isPrimaryContact: true, timezone: NEW_YORK })],
    });
    const step = stepByKey(plan(interview), 'thank_you:alice');
    expect(local(step.dueAt, NEW_YORK)).toBe('Fri 2025-03-07 09:00');
    // 48 hours counted on business days only: Thursday 3 h, Friday 24 h, Monday 21 h.
    expect(step.windowEndsAt && local(step.windowEndsAt, NEW_YORK)).toBe('Mon 2025-03-10 21:00');
  });

  it.each([
    ['planned after the deadline: sent at once, marked late', '2025-03-11 10:00', 'scheduled', 'late'],
    ['planned on time: not late', '2025-03-10 10:00', 'scheduled', 'on time'],
    ['planned after the grace period: dropped', '2025-03-12 10:00', 'skipped', 'window_missed'],
  ] as const)('%s', (_name, nowLocal, status, marker) => {
    const step = stepByKey(plan(interviewFacts(), { now: at(nowLocal, PARIS) }), 'thank_you:alice');
    expect(step.status).toBe(status);
    expect(local(step.dueAt, PARIS)).toBe(local(at(nowLocal, PARIS), PARIS));
    if (status === 'skipped') expect(step.reason).toBe(marker);
    else expect(step.rules.filter((rule) => rule.rule === 'T1').at(-1)?.detail).toContain(marker);
  });

  it('a panel gets one thank-you each', () => {
    const interview = interviewFacts({ interviewers: [interviewer('alice', { isPrimaryContact: true }), interviewer('bob'), interviewer('carol')] });
    expect(plan(interview).filter((step) => step.kind === 'thank_you').map((step) => step.key)).toEqual(['thank_you:alice', 'thank_you:bob', 'thank_you:carol']);
  });
});

describe('T2 business hours in the recipient zone', () => {
  it.each<[string, Partial<InterviewFacts['interviewers'][number]>, Partial<InterviewFacts['company']>, string]>([
    ["the interviewer's own zone", { timezone: NEW_YORK }, { timezone: 'Asia/Kolkata' }, NEW_YORK],
    ["else the company's zone", {}, { timezone: 'Asia/Kolkata' }, 'Asia/Kolkata'],
    ["else the interview's zone", {}, {}, TOKYO],
  ])('%s', (_name, person, company, expectedZone) => {
    const interview = interviewFacts({ timezone: TOKYO, endsAtLocal: '2025-03-07 18:00', company, interviewers: [interviewer('alice', { isPrimaryContact: true, ...person })] });
    const steps = plan(interview).filter((step) => step.status === 'scheduled');
    for (const step of steps) {
      expect(step.recipient.timezone).toBe(expectedZone);
      expect(local(step.dueAt, expectedZone)).toMatch(/^(Mon|Tue|Wed|Thu|Fri) .* (09|1[0-6]):\d\d$/);
    }
  });

  it('with "always" the thank-you goes two hours after, whatever the day', () => {
    const step = stepByKey(plan(interviewFacts(), { policy: policyWith({ businessHours: 'always' }) }), 'thank_you:alice');
    expect(local(step.dueAt, PARIS)).toBe('Fri 2025-03-07 20:00');
  });
});

describe('T3 follow their timeline', () => {
  it.each([
    ['a decision on Wednesday: check in Thursday morning', '2025-03-19 12:00', [], 1, 'Thu 2025-03-20 09:00'],
    ['a decision on Friday: check in Monday morning', '2025-03-21 17:00', [], 1, 'Mon 2025-03-24 09:00'],
    ['two business days after, over a holiday', '2025-03-20 10:00', ['2025-03-21'], 2, 'Tue 2025-03-25 09:00'],
  ] as const)('%s', (_name, decisionLocal, holidays, afterDecisionBusinessDays, expected) => {
    const interview = interviewFacts({ decisionExpectedBy: at(decisionLocal, PARIS) });
    const step = stepByKey(plan(interview, { policy: policyWith({ holidays, checkIn: { afterDecisionBusinessDays } }) }), 'check_in');
    expect(step.status).toBe('scheduled');
    expect(local(step.dueAt, PARIS)).toBe(expected);
    expect(step.windowEndsAt).toBeNull();
    expect(step.rules[0]?.rule).toBe('T3');
  });

  it.each([
    ['Los Angeles, where it is still Thursday: Friday morning', 'America/Los_Angeles', 'Fri 2025-03-21 09:00'],
    ['New York, where it is already Friday: Monday morning', NEW_YORK, 'Mon 2025-03-24 09:00'],
  ])('reads the decision date in the recipient zone: %s', (_name, zone, expected) => {
    const interview = interviewFacts({
      decisionExpectedBy: at('2025-03-20 22:30', 'America/Los_Angeles'),
      interviewers: [interviewer('alice', { isPrimaryContact: true, timezone: zone })],
    });
    expect(local(stepByKey(plan(interview), 'check_in').dueAt, zone)).toBe(expected);
  });
});

describe('T4 default cadence', () => {
  it.each([
    [
      'Friday-evening interview',
      '2025-03-07 18:00',
      ['thank_you:alice scheduled Mon 2025-03-10 09:00', 'check_in scheduled Mon 2025-03-17 09:00', 'final_check_in scheduled Mon 2025-03-31 09:00'],
      'Mon 2025-03-17 18:00',
    ],
    [
      'Wednesday-morning interview (the check-in waits for T5 spacing)',
      '2025-03-05 11:00',
      ['thank_you:alice scheduled Wed 2025-03-05 13:00', 'check_in scheduled Wed 2025-03-12 13:00', 'final_check_in scheduled Wed 2025-03-26 13:00'],
      'Sat 2025-03-15 11:00',
    ],
  ])('%s', (_name, endsAtLocal, expected, expectedWindowEnd) => {
    const steps = plan(interviewFacts({ endsAtLocal }));
    expect(outline(steps)).toEqual(expected);
    const checkIn = stepByKey(steps, 'check_in');
    expect(checkIn.windowEndsAt && local(checkIn.windowEndsAt, PARIS)).toBe(expectedWindowEnd);
  });

  it('anchors the final check-in on the check-in that was actually sent', () => {
    const sent = [sentRecord('thank_you', 'alice', at('2025-03-10 09:00', PARIS)), sentRecord('check_in', 'alice', at('2025-03-19 15:00', PARIS))];
    const steps = plan(interviewFacts(), { sent, now: at('2025-03-20 09:00', PARIS) });
    expect(outline(steps)).toEqual(['final_check_in scheduled Wed 2025-04-02 15:00']);
  });
});

describe('T5 spacing', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'a holiday in the thank-you week pushes the check-in past its window: dropped, and the final check-in with it',
      { holidays: ['2025-03-12'] },
      ['thank_you:alice scheduled Mon 2025-03-10 09:00', 'check_in skipped(window_missed) Mon 2025-03-17 09:00', 'final_check_in skipped(no_check_in) Mon 2025-03-31 09:00'],
    ],
    [
      'no spacing: the check-in keeps its rule time',
      { minSpacingBusinessDays: 0, businessHours: 'always' },
      ['thank_you:alice scheduled Fri 2025-03-07 20:00', 'check_in scheduled Fri 2025-03-14 18:00', 'final_check_in scheduled Fri 2025-03-28 18:00'],
    ],
    [
      'a keep-in-touch note waits 5 business days after the thank-you',
      { keepInTouch: { enabled: true, afterDays: 1 } },
      [
        'thank_you:alice scheduled Mon 2025-03-10 09:00',
        'check_in skipped(outcome_rejected) Mon 2025-03-17 09:00',
        'keep_in_touch scheduled Mon 2025-03-17 09:00',
        'final_check_in skipped(outcome_rejected) Mon 2025-03-31 09:00',
      ],
    ],
  ])('%s', (name, policyPatch, expected) => {
    const rejected = name.includes('keep-in-touch') ? { outcome: 'rejected' as const, outcomeAt: at('2025-03-10 08:00', PARIS) } : {};
    expect(outline(plan(interviewFacts(rejected), { policy: policyWith(policyPatch) }))).toEqual(expected);
  });

  it('records the deferral as an adjustment', () => {
    const steps = plan(interviewFacts({ endsAtLocal: '2025-03-05 11:00' }));
    expect(stepByKey(steps, 'check_in').rules).toContainEqual(expect.objectContaining({ rule: 'T5', outcome: 'adjust' }));
  });
});

describe('T6 attempts', () => {
  it.each([
    [3, ['scheduled', 'scheduled', 'scheduled']],
    [2, ['scheduled', 'scheduled', 'skipped(max_messages)']],
    [1, ['scheduled', 'skipped(max_messages)', 'skipped(max_messages)']],
  ] as const)('a cap of %i', (maxMessagesPerRecipient, statuses) => {
    const steps = plan(interviewFacts(), { policy: policyWith({ maxMessagesPerRecipient }) });
    expect(outline(steps).map((line) => line.split(' ')[1])).toEqual(statuses);
  });

  it('counts messages sent before the plan was recomputed', () => {
    const sent = [sentRecord('thank_you', 'alice', at('2025-03-10 09:00', PARIS)), sentRecord('call_task', null, at('2025-03-11 10:00', PARIS), 'phone')];
    const steps = plan(interviewFacts(), { sent, policy: policyWith({ maxMessagesPerRecipient: 2 }), now: at('2025-03-12 09:00', PARIS) });
    expect(outline(steps).map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(['check_in skipped(max_messages)', 'final_check_in skipped(max_messages)']);
  });
});

describe('S1 an employer reply stops the nudges', () => {
  it.each([
    ['a reply from the interviewer', 'alice@employer.example', ['thank_you:alice scheduled', 'check_in skipped(employer_replied)', 'final_check_in skipped(employer_replied)']],
    ["the candidate's own message does not count", 'DANA@candidate.example', ['thank_you:alice scheduled', 'check_in scheduled', 'final_check_in scheduled']],
  ])('%s', (_name, fromEmail, expected) => {
    const replies = [{ fromEmail, receivedAt: at('2025-03-08 10:00', PARIS), raisesConcerns: false }];
    expect(outline(plan(interviewFacts(), { replies })).map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(expected);
  });

  it('thank-yous to the rest of the panel still go', () => {
    const interview = interviewFacts({ interviewers: [interviewer('alice', { isPrimaryContact: true }), interviewer('bob')] });
    const replies = [{ fromEmail: 'alice@employer.example', receivedAt: at('2025-03-07 19:00', PARIS), raisesConcerns: false }];
    const sent = [sentRecord('thank_you', 'alice', at('2025-03-07 20:00', PARIS))];
    const steps = plan(interview, { replies, sent, now: at('2025-03-08 09:00', PARIS) });
    expect(stepByKey(steps, 'thank_you:bob').status).toBe('scheduled');
  });
});

describe('S2 concerns are answered by hand, never planned', () => {
  it('a reply raising concerns adds no planned step', () => {
    const replies = [{ fromEmail: 'alice@employer.example', receivedAt: at('2025-03-10 10:00', PARIS), raisesConcerns: true }];
    expect(plan(interviewFacts(), { replies }).some((step) => step.kind === 'respond_to_concerns')).toBe(false);
  });
});

describe('S3 outcomes', () => {
  it.each<[string, Partial<InterviewFacts>, Record<string, unknown>, string[]]>([
    ['an offer: the thank-you still goes, no check-ins', { outcome: 'offer' }, {}, ['thank_you:alice scheduled', 'check_in skipped(outcome_offer)', 'final_check_in skipped(outcome_offer)']],
    ['hired: the same', { outcome: 'hired' }, {}, ['thank_you:alice scheduled', 'check_in skipped(outcome_hired)', 'final_check_in skipped(outcome_hired)']],
    ['rejected, keep-in-touch off', { outcome: 'rejected' }, {}, ['thank_you:alice scheduled', 'check_in skipped(outcome_rejected)', 'final_check_in skipped(outcome_rejected)']],
    [
      'rejected, keep-in-touch on',
      { outcome: 'rejected' },
      { keepInTouch: { enabled: true } },
      ['thank_you:alice scheduled', 'check_in skipped(outcome_rejected)', 'keep_in_touch scheduled', 'final_check_in skipped(outcome_rejected)'],
    ],
    ['withdrawn: nothing at all', { outcome: 'withdrawn' }, { keepInTouch: { enabled: true } }, []],
  ])('%s', (_name, outcome, policyPatch, expected) => {
    const steps = plan(interviewFacts({ ...outcome, outcomeAt: at('2025-03-07 19:00', PARIS) }), { policy: policyWith(policyPatch) });
    expect(outline(steps).map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(expected);
  });
});

describe('S4 schedule changes', () => {
  it('a cancelled interview schedules nothing', () => {
    expect(plan(interviewFacts({ status: 'cancelled' }))).toEqual([]);
  });

  it.each(['cancelled', 'completed'] as const)('a %s plan schedules nothing', (planStatus) => {
    expect(plan(interviewFacts(), { planStatus })).toEqual([]);
  });

  it('a paused plan is previewed as it will run once resumed', () => {
    expect(plan(interviewFacts(), { planStatus: 'paused' })).toEqual(plan(interviewFacts()));
  });

  it('a rescheduled interview keeps every step key and moves the times', () => {
    const interview = interviewFacts({ interviewers: [interviewer('alice', { isPrimaryContact: true }), interviewer('bob')] });
    const before = plan(interview, { now: at('2025-03-01 09:00', PARIS) });
    const moved = { ...interview, startsAt: at('2025-03-11 10:00', PARIS), endsAt: at('2025-03-11 11:00', PARIS) };
    const after = plan(moved, { now: at('2025-03-01 09:00', PARIS) });
    expect(after.map((step) => step.key).sort()).toEqual(before.map((step) => step.key).sort());
    expect(local(stepByKey(after, 'thank_you:bob').dueAt, PARIS)).toBe('Tue 2025-03-11 13:00');
  });

  it('step keys name the kind and, for thank-yous, the interviewer', () => {
    expect([stepKey('thank_you', 'int-7'), stepKey('check_in', 'int-7'), stepKey('call_task', null), stepKey('respond_to_concerns', 'int-7', 'reply-2')]).toEqual([
      'thank_you:int-7',
      'check_in',
      'call_task',
      'respond_to_concerns:int-7:reply-2',
    ]);
  });
});

describe('S5 company culture opt-out', () => {
  it.each([
    ['none: every step skipped', 'none', ['thank_you:alice skipped(company_opt_out)', 'check_in skipped(company_opt_out)', 'final_check_in skipped(company_opt_out)']],
    ['thank_you_only: no check-ins', 'thank_you_only', ['thank_you:alice scheduled', 'check_in skipped(company_opt_out)', 'final_check_in skipped(company_opt_out)']],
  ] as const)('%s', (_name, followUpStyle, expected) => {
    expect(outline(plan(interviewFacts({ company: { followUpStyle } }))).map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(expected);
  });
});

describe('S6 consent and suppression', () => {
  it('without consent the steps are placed, each warning that they will be skipped', () => {
    const steps = plan(interviewFacts({ candidate: { consent: false } }));
    expect(steps.map((step) => step.status)).toEqual(['scheduled', 'scheduled', 'scheduled']);
    for (const step of steps) expect(step.rules.at(-1)).toMatchObject({ rule: 'S6', outcome: 'block', detail: expect.stringContaining('consent') });
  });

  it.each([
    ['a suppressed email', ['bob@employer.example']],
    ['a suppressed phone, written differently', ['+12125550100']],
  ])('%s: only that recipient is skipped', (_name, suppressedAddresses) => {
    const interview = interviewFacts({ interviewers: [interviewer('alice', { isPrimaryContact: true }), interviewer('bob', { phone: '+1 (212) 555-0100' })] });
    const steps = plan(interview, { suppressedAddresses });
    expect(stepByKey(steps, 'thank_you:bob')).toMatchObject({ status: 'skipped', reason: 'suppressed' });
    expect(stepByKey(steps, 'thank_you:alice').status).toBe('scheduled');
  });

  it('compares addresses without case or phone punctuation', () => {
    expect(normalizeAddress(' Bob@Employer.Example ')).toBe('bob@employer.example');
    expect(isSuppressed({ email: null, phone: '+44 20 7946-0000' }, ['+442079460000'])).toBe(true);
    expect(isSuppressed({ email: 'x@y.example', phone: null }, ['+442079460000'])).toBe(false);
  });
});

describe('call tasks and channels in the plan', () => {
  it('reminds the candidate a day after the call-back time, in the candidate zone, partner-delivered', () => {
    const interview = interviewFacts({ callBackExpectedBy: at('2025-03-11 16:00', PARIS), candidate: { timezone: 'Europe/London' } });
    const step = stepByKey(plan(interview, { policy: policyWith({ minSpacingBusinessDays: 0 }) }), 'call_task');
    expect(step).toMatchObject({ status: 'scheduled', channel: 'phone', recipient: { interviewerId: null, timezone: 'Europe/London' } });
    expect(local(step.dueAt, 'Europe/London')).toBe('Wed 2025-03-12 15:00');
    expect(step.rules).toContainEqual(expect.objectContaining({ rule: 'C4', detail: expect.stringContaining('partner') }));
  });

  it('is not planned without a call-back time or when disabled', () => {
    expect(plan(interviewFacts()).some((step) => step.kind === 'call_task')).toBe(false);
    const interview = interviewFacts({ callBackExpectedBy: at('2025-03-11 16:00', PARIS) });
    expect(plan(interview, { policy: policyWith({ callTask: { enabled: false } }) }).some((step) => step.kind === 'call_task')).toBe(false);
  });

  it('uses the channel the evaluator will use, and says why', () => {
    const interview = interviewFacts({ interviewers: [interviewer('alice', { isPrimaryContact: true, preferredChannel: 'sms' })], company: { preferredChannel: 'linkedin' } });
    const step = stepByKey(plan(interview), 'thank_you:alice');
    expect(step.channel).toBe('linkedin');
    expect(step.rules).toContainEqual(expect.objectContaining({ rule: 'C2', outcome: 'block' }));
  });
});

describe('plan shape', () => {
  const panel = interviewFacts({
    endsAtLocal: '2025-03-05 11:00',
    interviewers: [interviewer('zoe', { timezone: NEW_YORK }), interviewer('alice', { isPrimaryContact: true }), interviewer('bob')],
  });

  it('orders by due time, then kind, then the partner order of interviewers', () => {
    expect(outline(plan(panel))).toEqual([
      'thank_you:alice scheduled Wed 2025-03-05 13:00',
      'thank_you:bob scheduled Wed 2025-03-05 13:00',
      'thank_you:zoe scheduled Wed 2025-03-05 09:00',
      'check_in scheduled Wed 2025-03-12 13:00',
      'final_check_in scheduled Wed 2025-03-26 13:00',
    ]);
  });

  it('leaves out disabled kinds and what was already sent', () => {
    const sent = [sentRecord('thank_you', 'bob', at('2025-03-05 13:00', PARIS))];
    const steps = plan(panel, { sent, policy: policyWith({ finalCheckIn: { enabled: false } }), now: at('2025-03-05 13:05', PARIS) });
    expect(steps.map((step) => step.key)).toEqual(['thank_you:alice', 'thank_you:zoe', 'check_in']);
  });

  it('is the schedule the evaluator follows', () => {
    const policy: PolicyDocument = policyWith({ checkIn: { approval: 'review' } });
    const input: PlanInput = { interview: panel, policy, sent: [], replies: [], suppressedAddresses: [] };
    const steps = buildPlan(input, at('2025-03-01 09:00', PARIS)).filter((step) => step.status === 'scheduled');
    steps.forEach((step, index) => {
      const decision = evaluate(
        asStored(step),
        {
          interview: panel,
          policy,
          planStatus: 'active',
          sent: steps.slice(0, index).map(asSent),
          pending: steps.slice(index + 1).map(asStored),
          replies: [],
          recipientSuppressed: false,
        },
        step.dueAt,
      );
      if (step.kind === 'check_in') expect(decision).toMatchObject({ type: 'hold', reason: 'awaiting_approval' });
      else expect(decision).toMatchObject({ type: 'send', channel: step.channel });
    });
  });
});
