import { describe, expect, it } from 'vitest';
import { chooseChannel, isPartnerDelivered, type ChannelContact } from '../../../src/domain/channel.js';
import type { Channel, InterviewFacts } from '../../../src/domain/types.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy-document.js';

const NOW = new Date('2025-03-10T09:00:00Z');
const DAY_MS = 86_400_000;

function contact(overrides: Partial<ChannelContact> = {}): ChannelContact {
  return { email: 'lee@employer.example', phone: null, preferredChannel: null, ...overrides };
}

function arranged(
  overrides: { company?: Channel | null; interview?: Channel | null; decisionInDays?: number | null } = {},
): Pick<InterviewFacts, 'company' | 'channel' | 'decisionExpectedBy'> {
  return {
    company: { name: 'Acme', preferredChannel: overrides.company ?? null, followUpStyle: 'standard', timezone: null },
    channel: overrides.interview ?? null,
    decisionExpectedBy: overrides.decisionInDays == null ? null : new Date(NOW.getTime() + overrides.decisionInDays * DAY_MS),
  };
}

describe('C1 follow their lead', () => {
  it.each([
    ['the interviewer prefers LinkedIn', contact({ preferredChannel: 'linkedin' }), arranged({ company: 'email' }), 'linkedin', 'pass', "the interviewer's stated preference"],
    ['no interviewer preference: the company prefers a call', contact({ phone: '+1 212 555 0100' }), arranged({ company: 'phone', interview: 'email' }), 'phone', 'pass', "the company's preference"],
    ['only the interview channel is known', contact(), arranged({ interview: 'linkedin' }), 'linkedin', 'pass', 'the channel the interview was arranged through'],
    ['nothing stated: email', contact(), arranged(), 'email', 'pass', 'the default'],
    ['the interviewer wants sms but shared no number: the company choice wins', contact({ preferredChannel: 'sms' }), arranged({ company: 'linkedin' }), 'linkedin', 'adjust', "the company's preference"],
    ['no email address and no preference: nothing works', contact({ email: null }), arranged(), null, 'block', 'no channel can reach this recipient'],
  ] as const)('%s', (_name, who, interview, expectedChannel, c1Outcome, detailFragment) => {
    const choice = chooseChannel(who, interview, DEFAULT_POLICY, NOW);
    expect(choice.channel).toBe(expectedChannel);
    const c1 = choice.rules.filter((rule) => rule.rule === 'C1').at(-1);
    expect(c1?.outcome).toBe(c1Outcome);
    expect(c1?.detail).toContain(detailFragment);
  });

  it('passes over email without an address and falls back to the interview channel', () => {
    const choice = chooseChannel(contact({ email: null, preferredChannel: 'email' }), arranged({ interview: 'linkedin' }), DEFAULT_POLICY, NOW);
    expect(choice.channel).toBe('linkedin');
    expect(choice.rules[0]).toMatchObject({ rule: 'C1', outcome: 'block' });
  });
});

describe('C2 sms and calls only to a number the interviewer shared', () => {
  it.each([
    ['sms with a shared number', 'sms', '+44 20 7946 0000', 'sms', 'pass'],
    ['sms without a number falls back to email', 'sms', null, 'email', 'block'],
    ['a call with a shared number', 'phone', '+81 3 1234 5678', 'phone', 'pass'],
    ['a call without a number falls back to email', 'phone', null, 'email', 'block'],
  ] as const)('%s', (_name, preferred, phone, expectedChannel, c2Outcome) => {
    const choice = chooseChannel(contact({ preferredChannel: preferred, phone }), arranged(), DEFAULT_POLICY, NOW);
    expect(choice.channel).toBe(expectedChannel);
    expect(choice.rules.find((rule) => rule.rule === 'C2')?.outcome).toBe(c2Outcome);
  });
});

describe('C3 handwritten notes only when the decision is far enough away', () => {
  it.each([
    ['decision in 10 days: a note has time', 10, 'handwritten', 'pass'],
    ['decision in 6 days: just enough', 6, 'handwritten', 'pass'],
    ['decision in exactly 5 days: too close', 5, 'email', 'block'],
    ['decision in 2 days: too close', 2, 'email', 'block'],
    ['decision already past', -1, 'email', 'block'],
    ['no decision date: allowed (the default cadence waits a week)', null, 'handwritten', 'pass'],
  ] as const)('%s', (_name, decisionInDays, expectedChannel, c3Outcome) => {
    const choice = chooseChannel(contact({ preferredChannel: 'handwritten' }), arranged({ decisionInDays }), DEFAULT_POLICY, NOW);
    expect(choice.channel).toBe(expectedChannel);
    expect(choice.rules.find((rule) => rule.rule === 'C3')?.outcome).toBe(c3Outcome);
  });

  it('uses the policy threshold', () => {
    const patient = { ...DEFAULT_POLICY, handwrittenMinDaysToDecision: 12 };
    expect(chooseChannel(contact({ preferredChannel: 'handwritten' }), arranged({ decisionInDays: 10 }), patient, NOW).channel).toBe('email');
  });
});

describe('C4 delivery', () => {
  it.each([
    ['email', false],
    ['sms', true],
    ['linkedin', true],
    ['phone', true],
    ['handwritten', true],
  ] as const)('%s is partner-delivered: %s', (channel, expected) => {
    expect(isPartnerDelivered(channel)).toBe(expected);
  });

  it.each([
    ['email', 'email is sent by the service'],
    ['linkedin', 'linkedin is partner-delivered'],
  ] as const)('the %s choice says who delivers it', (preferred, detail) => {
    const choice = chooseChannel(contact({ preferredChannel: preferred }), arranged(), DEFAULT_POLICY, NOW);
    expect(choice.rules.find((rule) => rule.rule === 'C4')?.detail).toContain(detail);
  });
});
