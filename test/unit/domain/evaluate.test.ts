import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/domain/evaluate.js';
import type { Decision, EvaluationFacts, StepFacts } from '../../../src/domain/types.js';
import { at, evaluationFacts, interviewFacts, interviewer, local, policyWith, sentRecord, stepFacts } from './fixtures.js';

const PARIS = 'Europe/Paris';
const NEW_YORK = 'America/New_York';

/** Friday 7 March 2025, interview over at 18:00 Paris: T1 deadline Mon 18:00, grace Tue 18:00. */
const thankYou = stepFacts({ kind: 'thank_you', key: 'thank_you:alice', dueAt: at('2025-03-10 09:00', PARIS), windowEndsAt: at('2025-03-11 18:00', PARIS) });
const checkIn = stepFacts({ kind: 'check_in', dueAt: at('2025-03-17 09:00', PARIS), windowEndsAt: at('2025-03-17 18:00', PARIS) });

function summary(decision: Decision, zone = PARIS): string {
  switch (decision.type) {
    case 'send':
      return decision.late ? `send ${decision.channel} late` : `send ${decision.channel}`;
    case 'defer':
      return `defer ${local(decision.until, zone)}`;
    default:
      return `${decision.type} ${decision.reason}`;
  }
}

function ruleIds(decision: Decision): string[] {
  return decision.rules.map((rule) => `${rule.rule}:${rule.outcome}`);
}

describe('plan state, S4 and withdrawal come first', () => {
  it.each<[string, Partial<EvaluationFacts>, string]>([
    ['a cancelled plan skips the step', { planStatus: 'cancelled' }, 'skip plan_cancelled'],
    ['a completed plan skips the step', { planStatus: 'completed' }, 'skip plan_cancelled'],
    ['a paused plan holds it', { planStatus: 'paused' }, 'hold plan_paused'],
    ['S4 a cancelled interview cancels the plan', { interview: interviewFacts({ status: 'cancelled' }) }, 'cancel_plan interview_cancelled'],
    ['S3 a withdrawal cancels the plan', { interview: interviewFacts({ outcome: 'withdrawn' }) }, 'cancel_plan withdrawn'],
  ])('%s', (_name, facts, expected) => {
    expect(summary(evaluate(thankYou, evaluationFacts(facts), at('2025-03-10 09:00', PARIS)))).toBe(expected);
  });

  it('defers a step asked about before its due time', () => {
    const decision = evaluate(thankYou, evaluationFacts(), at('2025-03-08 12:00', PARIS));
    expect(summary(decision)).toBe('defer Mon 2025-03-10 09:00');
    expect(decision.rules.at(-1)).toMatchObject({ rule: 'T1', outcome: 'block' });
  });

  it('a step kind disabled since planning is skipped', () => {
    const facts = evaluationFacts({ policy: policyWith({ checkIn: { enabled: false } }) });
    expect(summary(evaluate(checkIn, facts, at('2025-03-17 09:00', PARIS)))).toBe('skip disabled_by_policy');
  });
});

describe('T1 thank-you window at due time', () => {
  it.each([
    ['Monday opening: on time', '2025-03-10 09:00', 'send email'],
    ['Monday 16:30: still on time', '2025-03-10 16:30', 'send email'],
    ['Monday 17:30: closed, Tuesday is within grace', '2025-03-10 17:30', 'defer Tue 2025-03-11 09:00'],
    ['Tuesday 09:00: after the deadline, marked late', '2025-03-11 09:00', 'send email late'],
    ['Tuesday 17:30: closed, and Wednesday is past grace', '2025-03-11 17:30', 'skip window_missed'],
    ['Wednesday: past grace', '2025-03-12 10:00', 'skip window_missed'],
  ])('%s', (_name, nowLocal, expected) => {
    expect(summary(evaluate(thankYou, evaluationFacts(), at(nowLocal, PARIS)))).toBe(expected);
  });

  it('says why a late one is late', () => {
    const decision = evaluate(thankYou, evaluationFacts(), at('2025-03-11 09:00', PARIS));
    expect(decision.rules.find((rule) => rule.rule === 'T1')).toMatchObject({ outcome: 'adjust', detail: expect.stringContaining('Mon 2025-03-10 18:00') });
  });
});

describe('T2 business hours in the recipient zone', () => {
  const tokyoInterview = interviewFacts({
    timezone: 'Asia/Tokyo',
    endsAtLocal: '2025-03-07 11:00',
    interviewers: [interviewer('alice', { isPrimaryContact: true, timezone: NEW_YORK })],
  });

  it.each<[string, EvaluationFacts, StepFacts, string, string, string]>([
    ['Saturday in Paris waits for Monday', evaluationFacts(), { ...thankYou, dueAt: at('2025-03-08 10:00', PARIS) }, '2025-03-08 10:00', PARIS, 'defer Mon 2025-03-10 09:00'],
    [
      'a Tokyo interview, interviewer in New York: New York hours',
      evaluationFacts({ interview: tokyoInterview }),
      { ...thankYou, dueAt: at('2025-03-07 13:00', 'Asia/Tokyo'), windowEndsAt: null },
      '2025-03-07 13:00',
      'Asia/Tokyo',
      'defer Fri 2025-03-07 09:00',
    ],
    [
      'no interviewer zone: the company zone',
      evaluationFacts({ interview: interviewFacts({ company: { timezone: NEW_YORK } }) }),
      { ...thankYou, dueAt: at('2025-03-10 09:00', PARIS) },
      '2025-03-10 09:00',
      PARIS,
      'defer Mon 2025-03-10 09:00',
    ],
  ])('%s', (_name, facts, step, nowLocal, nowZone, expected) => {
    const decision = evaluate(step, facts, at(nowLocal, nowZone));
    const zone = facts.interview.interviewers[0]?.timezone ?? facts.interview.company.timezone ?? facts.interview.timezone;
    expect(summary(decision, zone)).toBe(expected);
    expect(decision.rules.find((rule) => rule.rule === 'T2')?.outcome).toBe('block');
  });

  it('"always" sends at any hour', () => {
    const facts = evaluationFacts({ policy: policyWith({ businessHours: 'always' }) });
    const saturdayNight = at('2025-03-08 03:00', PARIS);
    expect(summary(evaluate({ ...thankYou, dueAt: saturdayNight }, facts, saturdayNight))).toBe('send email');
  });
});

describe('T5 spacing between messages to one recipient', () => {
  const thankedMonday = [sentRecord('thank_you', 'alice', at('2025-03-10 11:00', PARIS))];

  it.each<[string, StepFacts, EvaluationFacts['sent'], string, string]>([
    ['a check-in too soon after the thank-you waits 5 business days', { ...checkIn, dueAt: at('2025-03-14 09:00', PARIS), windowEndsAt: null }, thankedMonday, '2025-03-14 09:00', 'defer Mon 2025-03-17 11:00'],
    ['once 5 business days passed it goes', checkIn, [sentRecord('thank_you', 'alice', at('2025-03-10 09:00', PARIS))], '2025-03-17 09:00', 'send email'],
    ['if the wait ends after the window it is dropped', { ...checkIn, windowEndsAt: at('2025-03-17 10:00', PARIS) }, thankedMonday, '2025-03-17 09:00', 'skip window_missed'],
    ['a message to someone else does not count', checkIn, [sentRecord('thank_you', 'bob', at('2025-03-14 16:00', PARIS))], '2025-03-17 09:00', 'send email'],
    ['a holiday is not a business day', { ...checkIn, windowEndsAt: null }, thankedMonday, '2025-03-17 12:00', 'defer Tue 2025-03-18 11:00'],
  ])('%s', (_name, step, sent, nowLocal, expected) => {
    const policy = policyWith({ holidays: _name.includes('holiday') ? ['2025-03-14'] : [] });
    expect(summary(evaluate(step, evaluationFacts({ sent, policy }), at(nowLocal, PARIS)))).toBe(expected);
  });
});

describe('T6 attempts per recipient', () => {
  const monday = at('2025-03-24 10:00', PARIS);
  const three = [
    sentRecord('thank_you', 'alice', at('2025-03-10 09:00', PARIS)),
    sentRecord('check_in', 'alice', at('2025-03-17 09:00', PARIS)),
    sentRecord('respond_to_concerns', 'alice', at('2025-03-18 09:00', PARIS)),
  ];
  const keepInTouch = stepFacts({ kind: 'keep_in_touch', dueAt: monday });
  const rejected = interviewFacts({ outcome: 'rejected', outcomeAt: at('2025-03-21 10:00', PARIS) });
  const keepPolicy = policyWith({ keepInTouch: { enabled: true, approval: 'auto' }, minSpacingBusinessDays: 0 });

  it.each<[string, EvaluationFacts['sent'], number, string]>([
    ['the fourth message is not sent', three, 3, 'skip max_messages'],
    ['under the cap it goes', three.slice(0, 2), 3, 'send email'],
    ['a delivered call task counts as an attempt to the primary contact', [...three.slice(0, 2), sentRecord('call_task', null, at('2025-03-19 10:00', PARIS), 'phone')], 3, 'skip max_messages'],
    ['messages to other interviewers do not count', [sentRecord('thank_you', 'bob', monday), sentRecord('thank_you', 'carol', monday)], 1, 'send email'],
    ['a cap of one stops after the thank-you', three.slice(0, 1), 1, 'skip max_messages'],
  ])('%s', (_name, sent, max, expected) => {
    const facts = evaluationFacts({ interview: rejected, sent, policy: { ...keepPolicy, maxMessagesPerRecipient: max } });
    expect(summary(evaluate(keepInTouch, facts, monday))).toBe(expected);
  });

  it('an answer to concerns is not an attempt and is not capped', () => {
    const answer = stepFacts({ kind: 'respond_to_concerns', dueAt: monday, approved: true });
    expect(summary(evaluate(answer, evaluationFacts({ sent: three }), monday))).toBe('send email');
  });
});

describe('S1 a reply from the employer stops the nudges', () => {
  it.each([
    ['a reply from the interviewer stops the check-in', checkIn, 'alice@employer.example', 'skip employer_replied'],
    ['a reply from a colleague at the company stops it too', checkIn, 'hr@employer.example', 'skip employer_replied'],
    ["the candidate's own reply (any case) does not", checkIn, 'Dana@Candidate.Example', 'send email'],
    ['a thank-you still goes after an employer reply', thankYou, 'alice@employer.example', 'send email'],
  ] as const)('%s', (_name, step, fromEmail, expected) => {
    const facts = evaluationFacts({ replies: [{ fromEmail, receivedAt: at('2025-03-08 10:00', PARIS), raisesConcerns: false }] });
    expect(summary(evaluate(step, facts, step.dueAt))).toBe(expected);
  });
});

describe('S2 concerns get an answer written by the candidate', () => {
  const answer = stepFacts({ kind: 'respond_to_concerns', key: 'respond_to_concerns:alice', dueAt: at('2025-03-15 03:00', PARIS) });
  const facts = evaluationFacts({ replies: [{ fromEmail: 'alice@employer.example', receivedAt: at('2025-03-15 02:00', PARIS), raisesConcerns: true }] });

  it.each([
    ['held for the candidate at once, even on a Saturday night', answer, '2025-03-15 03:00', 'hold awaiting_approval'],
    ['once approved on Saturday it waits for business hours', { ...answer, approved: true }, '2025-03-15 11:00', 'defer Mon 2025-03-17 09:00'],
    ['approved in business hours it goes, spacing aside', { ...answer, approved: true }, '2025-03-17 09:30', 'send email'],
  ] as const)('%s', (_name, step, nowLocal, expected) => {
    const withRecentThanks = { ...facts, sent: [sentRecord('thank_you', 'alice', at('2025-03-14 09:00', PARIS))] };
    expect(summary(evaluate(step, withRecentThanks, at(nowLocal, PARIS)))).toBe(expected);
  });
});

describe('S3 outcomes', () => {
  const keepInTouch = stepFacts({ kind: 'keep_in_touch', dueAt: at('2025-03-24 09:00', PARIS) });
  const keepPolicy = policyWith({ keepInTouch: { enabled: true, approval: 'auto' } });

  it.each<[string, StepFacts, EvaluationFacts['interview']['outcome'], string]>([
    ['an offer stops the check-in', checkIn, 'offer', 'skip outcome_offer'],
    ['a hire stops the check-in', checkIn, 'hired', 'skip outcome_hired'],
    ['a rejection stops the check-in', checkIn, 'rejected', 'skip outcome_rejected'],
    ['an offer does not stop a thank-you not yet sent', thankYou, 'offer', 'send email'],
    ['after a rejection the keep-in-touch note goes', keepInTouch, 'rejected', 'send email'],
    ['a keep-in-touch note needs a rejection', keepInTouch, 'offer', 'skip outcome_offer'],
    ['withdrawn cancels everything', thankYou, 'withdrawn', 'cancel_plan withdrawn'],
  ])('%s', (_name, step, outcome, expected) => {
    const facts = evaluationFacts({ interview: interviewFacts({ outcome, outcomeAt: at('2025-03-09 10:00', PARIS) }), policy: keepPolicy });
    expect(summary(evaluate(step, facts, step.dueAt))).toBe(expected);
  });
});

describe('S4 a cancelled interview ends the plan', () => {
  it.each([thankYou, checkIn])('for a %o step', (step) => {
    const decision = evaluate(step, evaluationFacts({ interview: interviewFacts({ status: 'cancelled' }) }), step.dueAt);
    expect(summary(decision)).toBe('cancel_plan interview_cancelled');
    expect(ruleIds(decision)).toEqual(['S4:block']);
  });
});

describe('S5 company culture opt-out', () => {
  const answer = stepFacts({ kind: 'respond_to_concerns', dueAt: checkIn.dueAt, approved: true });
  it.each([
    ['none: no thank-you', 'none', thankYou, 'skip company_opt_out'],
    ['none: no answer to concerns either', 'none', answer, 'skip company_opt_out'],
    ['thank_you_only: the thank-you goes', 'thank_you_only', thankYou, 'send email'],
    ['thank_you_only: no check-in', 'thank_you_only', checkIn, 'skip company_opt_out'],
    ['thank_you_only: an answer to their own reply goes', 'thank_you_only', answer, 'send email'],
    ['standard: the check-in goes', 'standard', checkIn, 'send email'],
  ] as const)('%s', (_name, followUpStyle, step, expected) => {
    const facts = evaluationFacts({ interview: interviewFacts({ company: { followUpStyle } }) });
    expect(summary(evaluate(step, facts, step.dueAt))).toBe(expected);
  });
});

describe('S6 consent and suppression', () => {
  it.each([
    ['no consent: nothing goes', false, false, 'skip no_consent'],
    ['a suppressed address: nothing goes', true, true, 'skip suppressed'],
    ['consent and not suppressed: it goes', true, false, 'send email'],
  ] as const)('%s', (_name, consent, recipientSuppressed, expected) => {
    const facts = evaluationFacts({ interview: interviewFacts({ candidate: { consent } }), recipientSuppressed });
    expect(summary(evaluate(thankYou, facts, thankYou.dueAt))).toBe(expected);
  });
});

describe('final check-in follows the check-in', () => {
  const finalCheckIn = stepFacts({ kind: 'final_check_in', dueAt: at('2025-03-31 09:00', PARIS) });
  const checkInSent = sentRecord('check_in', 'alice', at('2025-03-17 11:00', PARIS));

  it.each<[string, Partial<EvaluationFacts>, string, string]>([
    ['14 days after the check-in went: it goes', { sent: [checkInSent] }, '2025-03-31 11:00', 'send email'],
    ['too early after the check-in: it waits', { sent: [checkInSent] }, '2025-03-31 09:00', 'defer Mon 2025-03-31 11:00'],
    [
      'the check-in is still pending: it waits for it',
      { pending: [{ id: 'c', key: 'check_in', kind: 'check_in', recipient: checkIn.recipient, dueAt: at('2025-04-01 09:00', PARIS) }] },
      '2025-03-31 09:00',
      'defer Tue 2025-04-15 09:00',
    ],
    ['no check-in sent or pending: dropped', {}, '2025-03-31 09:00', 'skip no_check_in'],
  ])('%s', (_name, facts, nowLocal, expected) => {
    expect(summary(evaluate(finalCheckIn, evaluationFacts(facts), at(nowLocal, PARIS)))).toBe(expected);
  });
});

describe('channel choice and approval at due time', () => {
  it('chooses the channel from current facts, not the stored one', () => {
    const facts = evaluationFacts({ interview: interviewFacts({ interviewers: [interviewer('alice', { isPrimaryContact: true, preferredChannel: 'linkedin' })] }) });
    expect(summary(evaluate({ ...thankYou, channel: 'email' }, facts, thankYou.dueAt))).toBe('send linkedin');
  });

  it('drops a step no channel can carry', () => {
    const facts = evaluationFacts({ interview: interviewFacts({ interviewers: [interviewer('alice', { isPrimaryContact: true, email: null })] }) });
    expect(summary(evaluate(thankYou, facts, thankYou.dueAt))).toBe('skip unreachable');
  });

  it('a call task is a partner-delivered phone reminder', () => {
    const callTask = stepFacts({
      kind: 'call_task',
      dueAt: at('2025-03-13 10:00', PARIS),
      recipient: { interviewerId: null, name: 'Dana Candidate', email: 'dana@candidate.example', phone: null, timezone: PARIS },
    });
    const decision = evaluate(callTask, evaluationFacts(), callTask.dueAt);
    expect(summary(decision)).toBe('send phone');
    expect(decision.rules.find((rule) => rule.rule === 'C4')?.detail).toContain('partner');
  });

  it.each([
    ['review: held', false, 'hold awaiting_approval'],
    ['review, approved: sent', true, 'send email'],
  ] as const)('%s', (_name, approved, expected) => {
    const facts = evaluationFacts({ policy: policyWith({ thankYou: { approval: 'review' } }) });
    expect(summary(evaluate({ ...thankYou, approved }, facts, thankYou.dueAt))).toBe(expected);
  });

  it('gives the same decision for the same facts', () => {
    const facts = evaluationFacts({ sent: [sentRecord('thank_you', 'alice', at('2025-03-10 11:00', PARIS))] });
    const now = at('2025-03-14 10:00', PARIS);
    expect(evaluate(checkIn, facts, now)).toEqual(evaluate(checkIn, facts, now));
  });
});
