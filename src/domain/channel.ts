// Channel choice (C1–C4): follow the stated preferences in order, passing over any that
// cannot work for this recipient right now, and say who delivers the result.

import type { Channel, InterviewFacts, RuleResult } from './types.js';
import type { PolicyDocument } from './policy-document.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What channel choice needs to know about the person written to. */
export interface ChannelContact {
  email: string | null;
  phone: string | null;
  preferredChannel: Channel | null;
}

export type ChannelChoice = { channel: Channel; rules: RuleResult[] } | { channel: null; rules: RuleResult[] };

interface Preference {
  channel: Channel;
  source: string;
}

/** C4: only email leaves through our own SMTP; the partner delivers the rest and reports back. */
export function isPartnerDelivered(channel: Channel): boolean {
  return channel !== 'email';
}

function preferenceChain(contact: ChannelContact, interview: Pick<InterviewFacts, 'company' | 'channel'>): Preference[] {
  const stated: Array<Preference | null> = [
    contact.preferredChannel === null ? null : { channel: contact.preferredChannel, source: "the interviewer's stated preference" },
    interview.company.preferredChannel === null ? null : { channel: interview.company.preferredChannel, source: "the company's preference" },
    interview.channel === null ? null : { channel: interview.channel, source: 'the channel the interview was arranged through' },
    { channel: 'email', source: 'the default' },
  ];
  const chain: Preference[] = [];
  for (const preference of stated) {
    if (preference !== null && !chain.some((earlier) => earlier.channel === preference.channel)) chain.push(preference);
  }
  return chain;
}

/** Why a channel cannot be used now, as a blocking rule result; null when it can. */
function obstacle(
  channel: Channel,
  contact: ChannelContact,
  decisionExpectedBy: Date | null,
  policy: Pick<PolicyDocument, 'handwrittenMinDaysToDecision'>,
  now: Date,
): RuleResult | null {
  switch (channel) {
    case 'email':
      return contact.email === null ? { rule: 'C1', outcome: 'block', detail: 'email passed over: no email address on file for this recipient' } : null;
    case 'sms':
    case 'phone':
      return contact.phone === null
        ? { rule: 'C2', outcome: 'block', detail: `${channel} passed over: the interviewer has not shared a phone number` }
        : null;
    case 'handwritten': {
      if (decisionExpectedBy === null) return null;
      const daysAway = (decisionExpectedBy.getTime() - now.getTime()) / DAY_MS;
      if (daysAway > policy.handwrittenMinDaysToDecision) return null;
      return {
        rule: 'C3',
        outcome: 'block',
        detail: `handwritten passed over: the decision is expected in ${Math.max(0, Math.floor(daysAway))} day(s), and a note needs more than ${policy.handwrittenMinDaysToDecision} to arrive in time`,
      };
    }
    case 'linkedin':
      return null;
  }
}

function acceptanceOfChosen(channel: Channel, decisionExpectedBy: Date | null): RuleResult | null {
  if (channel === 'sms' || channel === 'phone') return { rule: 'C2', outcome: 'pass', detail: `${channel} to the number the interviewer shared` };
  if (channel === 'handwritten') {
    return {
      rule: 'C3',
      outcome: 'pass',
      detail: decisionExpectedBy === null ? 'handwritten note allowed: no decision date was given' : 'handwritten note allowed: the decision is far enough away',
    };
  }
  return null;
}

function deliveryRule(channel: Channel): RuleResult {
  return isPartnerDelivered(channel)
    ? { rule: 'C4', outcome: 'pass', detail: `${channel} is partner-delivered: the partner delivers it and reports back` }
    : { rule: 'C4', outcome: 'pass', detail: 'email is sent by the service' };
}

/**
 * C1: the interviewer's preference, else the company's, else the interview's channel, else
 * email. C2: sms and calls need a number the interviewer shared. C3: handwritten notes need
 * the decision more than `handwrittenMinDaysToDecision` days after `now` (allowed when no
 * decision date was given: the default cadence already waits a week). LinkedIn always works
 * (the partner delivers it). With nothing workable the channel is null: the step is unreachable.
 */
export function chooseChannel(
  contact: ChannelContact,
  interview: Pick<InterviewFacts, 'company' | 'channel' | 'decisionExpectedBy'>,
  policy: Pick<PolicyDocument, 'handwrittenMinDaysToDecision'>,
  now: Date,
): ChannelChoice {
  const chain = preferenceChain(contact, interview);
  const rules: RuleResult[] = [];
  for (const [index, preference] of chain.entries()) {
    const blocked = obstacle(preference.channel, contact, interview.decisionExpectedBy, policy, now);
    if (blocked !== null) {
      rules.push(blocked);
      continue;
    }
    rules.push({
      rule: 'C1',
      outcome: index === 0 ? 'pass' : 'adjust',
      detail:
        index === 0
          ? `${preference.channel}: ${preference.source}`
          : `${preference.channel}: ${preference.source}, as the earlier choice(s) could not be used`,
    });
    const chosenRule = acceptanceOfChosen(preference.channel, interview.decisionExpectedBy);
    if (chosenRule !== null) rules.push(chosenRule);
    rules.push(deliveryRule(preference.channel));
    return { channel: preference.channel, rules };
  }
  rules.push({ rule: 'C1', outcome: 'block', detail: 'no channel can reach this recipient' });
  return { channel: null, rules };
}

/** The call task is a reminder to the candidate, delivered by the partner: no choice to make. */
export function callTaskChannelRules(): RuleResult[] {
  return [{ rule: 'C4', outcome: 'pass', detail: 'a call task is partner-delivered: the partner reminds the candidate to call' }];
}
