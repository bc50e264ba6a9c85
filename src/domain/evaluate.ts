// The evaluator: given one due step, everything known about its interview, and `now`, decide
// whether it goes now, waits, is dropped, is held, or ends the whole plan. Pure: the same
// facts and `now` always give the same decision, with the rule results that produced it.
//
// The plan builder runs this very function forward in time to build its schedule, so every
// time rule lives here once, and the preview can never promise what the worker would refuse.

import type {
  Channel,
  Decision,
  EvaluationFacts,
  InterviewFacts,
  InterviewerFacts,
  ReplyRecord,
  RuleId,
  RuleResult,
  SentRecord,
  StepFacts,
  StepKind,
} from './types.js';
import { type Approval, POLICY_SECTION_BY_KIND, type PolicyDocument } from './policy-document.js';
import {
  addBusinessClockHours,
  addBusinessDays,
  addCalendarDays,
  describeInstant,
  nextBusinessMoment,
} from './calendar.js';
import { callTaskChannelRules, chooseChannel, type ChannelContact } from './channel.js';
import { isEmployerSide } from './employer-reply.js';

const MINUTE_MS = 60_000;

/** Steps that nudge the employer for news: what S1 and S3 stop. */
const NUDGE_KINDS: ReadonlySet<StepKind> = new Set<StepKind>(['check_in', 'final_check_in', 'call_task']);

/** What a `thank_you_only` company still gets (S5): thanks, and answers to its own replies. */
const THANK_YOU_ONLY_KINDS: ReadonlySet<StepKind> = new Set<StepKind>(['thank_you', 'respond_to_concerns']);

// ------------------------------------------------------------------------------------------
// Facts interpretation shared with the plan builder.

function findPrimaryContact(interview: Pick<InterviewFacts, 'interviewers'>): InterviewerFacts | undefined {
  return interview.interviewers.find((interviewer) => interviewer.isPrimaryContact) ?? interview.interviewers[0];
}

/** The interviewer marked as primary contact, else the first listed. */
export function primaryContact(interview: Pick<InterviewFacts, 'interviewers'>): InterviewerFacts {
  const contact = findPrimaryContact(interview);
  if (contact === undefined) throw new RangeError('an interview needs at least one interviewer');
  return contact;
}

/** T2: the recipient's own zone, else the company's, else the interview's. */
export function interviewerZone(interviewer: Pick<InterviewerFacts, 'timezone'>, interview: Pick<InterviewFacts, 'company' | 'timezone'>): string {
  return interviewer.timezone ?? interview.company.timezone ?? interview.timezone;
}

/** The zone of the candidate's own reminders (call tasks). */
export function candidateZone(interview: Pick<InterviewFacts, 'candidate' | 'timezone'>): string {
  return interview.candidate.timezone ?? interview.timezone;
}

function findInterviewer(interview: InterviewFacts, interviewerId: string | null): InterviewerFacts | undefined {
  return interviewerId === null ? undefined : interview.interviewers.find((interviewer) => interviewer.id === interviewerId);
}

/** The zone whose business hours a step keeps: the recipient's (the candidate's for a call task). */
export function stepZone(step: Pick<StepFacts, 'kind' | 'recipient'>, interview: InterviewFacts): string {
  if (step.kind === 'call_task' || step.recipient.interviewerId === null) return candidateZone(interview);
  const interviewer = findInterviewer(interview, step.recipient.interviewerId);
  if (interviewer !== undefined) return interviewerZone(interviewer, interview);
  return step.recipient.timezone ?? interview.company.timezone ?? interview.timezone;
}

/**
 * Whom a message counts against for T5 spacing and T6 attempts. A call task is addressed to
 * the candidate, but the call it prompts goes to the primary contact, and call attempts count
 * (T6), so it counts against the primary contact. Null: a message to nobody on the employer side.
 */
export function contactIdOf(kind: StepKind, interviewerId: string | null, interview: Pick<InterviewFacts, 'interviewers'>): string | null {
  if (kind === 'call_task') return findPrimaryContact(interview)?.id ?? null;
  return interviewerId;
}

/** T1's three instants: not before, on time until, still allowed (late) until. */
export function thankYouTimes(
  endsAt: Date,
  zone: string,
  policy: PolicyDocument,
): { notBefore: Date; deadline: Date; graceEnd: Date } {
  return {
    notBefore: new Date(endsAt.getTime() + policy.thankYou.delayMinutes * MINUTE_MS),
    deadline: addBusinessClockHours(endsAt, policy.thankYou.deadlineHours, zone, policy),
    graceEnd: addBusinessClockHours(endsAt, policy.thankYou.graceHours, zone, policy),
  };
}

/**
 * S1: a reply counts as the employer's when it was judged so when recorded (`fromEmployer`), or,
 * for one recorded before that was kept, by the rule in employer-reply.ts.
 */
export function isEmployerReply(reply: ReplyRecord, interview: Pick<InterviewFacts, 'candidate' | 'interviewers'>): boolean {
  if (reply.fromEmployer !== undefined && reply.fromEmployer !== null) return reply.fromEmployer;
  return isEmployerSide(
    { fromEmail: reply.fromEmail },
    { candidateEmail: interview.candidate.email, interviewerEmails: interview.interviewers.flatMap((person) => (person.email ? [person.email] : [])) },
  );
}

export function approvalFor(kind: StepKind, policy: PolicyDocument): Approval {
  return policy[POLICY_SECTION_BY_KIND[kind]].approval;
}

export function isKindEnabled(kind: StepKind, policy: PolicyDocument): boolean {
  const section = policy[POLICY_SECTION_BY_KIND[kind]];
  // Answers to concerns cannot be turned off: they are the candidate's own reply.
  return 'enabled' in section ? section.enabled : true;
}

/** The rule whose timing put a step at its due time (named when the step is not due yet). */
export function placementRule(kind: StepKind, interview: Pick<InterviewFacts, 'decisionExpectedBy'>): RuleId {
  switch (kind) {
    case 'thank_you':
      return 'T1';
    case 'check_in':
      return interview.decisionExpectedBy === null ? 'T4' : 'T3';
    case 'final_check_in':
      return 'T4';
    case 'call_task':
      return 'T3';
    case 'keep_in_touch':
      return 'S3';
    case 'respond_to_concerns':
      return 'S2';
  }
}

// ------------------------------------------------------------------------------------------
// The decision.

function block(rule: RuleId, detail: string): RuleResult {
  return { rule, outcome: 'block', detail };
}

function pass(rule: RuleId, detail: string): RuleResult {
  return { rule, outcome: 'pass', detail };
}

function laterOf(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}

function channelContactFor(step: StepFacts, interview: InterviewFacts): ChannelContact {
  const interviewer = findInterviewer(interview, step.recipient.interviewerId);
  if (interviewer !== undefined) return { email: interviewer.email, phone: interviewer.phone, preferredChannel: interviewer.preferredChannel };
  return { email: step.recipient.email, phone: step.recipient.phone, preferredChannel: null };
}

function sentTo(contactId: string, sent: readonly SentRecord[], interview: InterviewFacts): SentRecord[] {
  return sent.filter((record) => contactIdOf(record.kind, record.interviewerId, interview) === contactId);
}

function latestSent(records: readonly SentRecord[]): SentRecord | undefined {
  return records.reduce<SentRecord | undefined>((latest, record) => (latest === undefined || record.sentAt > latest.sentAt ? record : latest), undefined);
}

/** Plan status, S4 and withdrawal: what stops this step or the whole plan whatever its kind. */
function planLevelStop(facts: EvaluationFacts, rules: RuleResult[]): Decision | null {
  if (facts.planStatus === 'cancelled' || facts.planStatus === 'completed') return { type: 'skip', reason: 'plan_cancelled', rules };
  if (facts.planStatus === 'paused') return { type: 'hold', reason: 'plan_paused', rules };
  if (facts.interview.status === 'cancelled') {
    rules.push(block('S4', 'the interview was cancelled, so its plan ends'));
    return { type: 'cancel_plan', reason: 'interview_cancelled', rules };
  }
  if (facts.interview.outcome === 'withdrawn') {
    rules.push(block('S3', 'the candidate withdrew, so nothing more is sent'));
    return { type: 'cancel_plan', reason: 'withdrawn', rules };
  }
  return null;
}

/** S5, S3, S1, S6: rules that drop this step for good. */
function stepLevelStop(step: StepFacts, facts: EvaluationFacts, rules: RuleResult[]): Decision | null {
  const { interview } = facts;
  const skip = (reason: string): Decision => ({ type: 'skip', reason, rules });

  const style = interview.company.followUpStyle;
  if (style === 'none' || (style === 'thank_you_only' && !THANK_YOU_ONLY_KINDS.has(step.kind))) {
    rules.push(block('S5', style === 'none' ? 'the company prefers no follow-up messages' : 'the company prefers thank-you notes only'));
    return skip('company_opt_out');
  }
  rules.push(pass('S5', style === 'standard' ? 'the company accepts follow-ups' : 'the company accepts thank-you notes'));

  const outcome = interview.outcome;
  if (NUDGE_KINDS.has(step.kind) && outcome !== null) {
    rules.push(block('S3', `an outcome (${outcome}) was recorded, so there is nothing left to ask about`));
    return skip(`outcome_${outcome}`);
  }
  if (step.kind === 'keep_in_touch' && outcome !== 'rejected') {
    rules.push(block('S3', 'a keep-in-touch note only follows a rejection'));
    return skip(outcome === null ? 'no_outcome' : `outcome_${outcome}`);
  }
  rules.push(pass('S3', outcome === null ? 'no outcome recorded yet' : `the outcome (${outcome}) does not stop a ${step.kind.replaceAll('_', ' ')}`));

  if (NUDGE_KINDS.has(step.kind)) {
    if (facts.replies.some((reply) => isEmployerReply(reply, interview))) {
      rules.push(block('S1', 'the employer side has replied, so no further nudges'));
      return skip('employer_replied');
    }
    rules.push(pass('S1', 'no reply from the employer side yet'));
  }

  if (!interview.candidate.consent) {
    rules.push(block('S6', 'the candidate has not recorded consent'));
    return skip('no_consent');
  }
  if (facts.recipientSuppressed) {
    rules.push(block('S6', "the recipient's address is on the suppression list"));
    return skip('suppressed');
  }
  rules.push(pass('S6', 'consent recorded and the recipient is not suppressed'));
  return null;
}

/** T6: at most `maxMessagesPerRecipient` messages to one person per interview. */
function attemptCap(step: StepFacts, facts: EvaluationFacts, contactId: string | null, rules: RuleResult[]): Decision | null {
  // An answer to concerns the employer raised is a reply, not an attempt at contact.
  if (contactId === null || step.kind === 'respond_to_concerns') return null;
  const max = facts.policy.maxMessagesPerRecipient;
  const count = sentTo(contactId, facts.sent, facts.interview).length;
  if (count >= max) {
    rules.push(block('T6', `${count} message(s) already went to this recipient; the limit is ${max}`));
    return { type: 'skip', reason: 'max_messages', rules };
  }
  rules.push(pass('T6', `message ${count + 1} of at most ${max} to this recipient`));
  return null;
}

/** The final check-in follows the check-in by `finalCheckIn.afterDays` days (T4). */
function finalCheckInAnchor(facts: EvaluationFacts, zone: string, now: Date, rules: RuleResult[]): Date | 'no_check_in' {
  const afterDays = facts.policy.finalCheckIn.afterDays;
  const lastCheckIn = latestSent(facts.sent.filter((record) => record.kind === 'check_in'));
  if (lastCheckIn !== undefined) {
    const earliest = addCalendarDays(lastCheckIn.sentAt, afterDays, zone);
    rules.push({
      rule: 'T4',
      outcome: earliest > now ? 'block' : 'pass',
      detail: `the check-in went ${describeInstant(lastCheckIn.sentAt, zone)}; the final check-in waits ${afterDays} day(s) after it`,
    });
    return earliest;
  }
  const pendingCheckIn = facts.pending.find((step) => step.kind === 'check_in');
  if (pendingCheckIn !== undefined) {
    const earliest = addCalendarDays(laterOf(pendingCheckIn.dueAt, now), afterDays, zone);
    rules.push(block('T4', `the check-in has not gone yet; the final check-in waits ${afterDays} day(s) after it`));
    return earliest;
  }
  rules.push(block('T4', 'there is no check-in to follow: it was skipped or cancelled'));
  return 'no_check_in';
}

/** T5: the first instant far enough from the last message to this person; null when none limits. */
function spacingFloor(facts: EvaluationFacts, contactId: string | null, zone: string, now: Date, rules: RuleResult[]): Date | null {
  const spacing = facts.policy.minSpacingBusinessDays;
  if (contactId === null) return null;
  const previous = sentTo(contactId, facts.sent, facts.interview);
  if (previous.length === 0 || spacing === 0) {
    rules.push(pass('T5', previous.length === 0 ? 'no earlier message to this recipient' : 'no minimum spacing set'));
    return null;
  }
  const last = latestSent(previous);
  if (last === undefined) return null;
  const floor = addBusinessDays(last.sentAt, spacing, zone, facts.policy);
  rules.push(
    floor > now
      ? block('T5', `the last message to this recipient went ${describeInstant(last.sentAt, zone)}; the next waits ${spacing} business day(s), until ${describeInstant(floor, zone)}`)
      : pass('T5', `at least ${spacing} business day(s) since the last message to this recipient`),
  );
  return floor;
}

function approvalHold(step: StepFacts, policy: PolicyDocument, rules: RuleResult[]): Decision | null {
  if (approvalFor(step.kind, policy) === 'review' && step.approved !== true) {
    rules.push(block('APPROVAL', 'the policy asks the candidate to review this message before it goes'));
    return { type: 'hold', reason: 'awaiting_approval', rules };
  }
  rules.push(pass('APPROVAL', step.approved === true ? 'approved by the candidate' : 'sent without review, as the policy allows'));
  return null;
}

function windowRule(kind: StepKind): RuleId {
  return kind === 'thank_you' ? 'T1' : 'T4';
}

/** Decides what happens to a due step now. See POLICY.md for the rules by id. */
export function evaluate(step: StepFacts, facts: EvaluationFacts, now: Date): Decision {
  const { interview, policy } = facts;
  const rules: RuleResult[] = [];

  const planStop = planLevelStop(facts, rules);
  if (planStop !== null) return planStop;
  if (!isKindEnabled(step.kind, policy)) return { type: 'skip', reason: 'disabled_by_policy', rules };
  const stepStop = stepLevelStop(step, facts, rules);
  if (stepStop !== null) return stepStop;

  const contactId = contactIdOf(step.kind, step.recipient.interviewerId, interview);
  const capped = attemptCap(step, facts, contactId, rules);
  if (capped !== null) return capped;

  const zone = stepZone(step, interview);
  if (now < step.dueAt) {
    rules.push(block(placementRule(step.kind, interview), `not due until ${describeInstant(step.dueAt, zone)}`));
    return { type: 'defer', until: step.dueAt, rules };
  }

  const windowEndsAt = step.windowEndsAt;
  const windowMissed = (detail: string): Decision => {
    rules.push(block(windowRule(step.kind), detail));
    return { type: 'skip', reason: 'window_missed', rules };
  };
  if (windowEndsAt !== null && now > windowEndsAt) {
    return windowMissed(`its window closed ${describeInstant(windowEndsAt, zone)}; sent this late it would read as newfound interest`);
  }

  // The candidate writes an answer to concerns themselves, whenever they can; business hours
  // matter only once it is ready to go.
  if (step.kind === 'respond_to_concerns') {
    const held = approvalHold(step, policy, rules);
    if (held !== null) return held;
  }

  // Every timing constraint gives a floor; the step goes at the first business moment at or
  // after the highest, so a single deferral satisfies them all.
  let earliest = now;
  if (step.kind === 'final_check_in') {
    const anchor = finalCheckInAnchor(facts, zone, now, rules);
    if (anchor === 'no_check_in') return { type: 'skip', reason: 'no_check_in', rules };
    earliest = laterOf(earliest, anchor);
  }
  if (step.kind !== 'respond_to_concerns') {
    const floor = spacingFloor(facts, contactId, zone, now, rules);
    if (floor !== null) earliest = laterOf(earliest, floor);
  }
  const sendAt = nextBusinessMoment(earliest, zone, policy);
  rules.push(
    sendAt > earliest
      ? block('T2', `outside business hours in ${zone}; the next business moment is ${describeInstant(sendAt, zone)}`)
      : pass('T2', `${describeInstant(sendAt, zone)} is inside business hours`),
  );
  if (sendAt > now) {
    if (windowEndsAt !== null && sendAt > windowEndsAt) {
      return windowMissed(`the earliest allowed moment, ${describeInstant(sendAt, zone)}, is after its window closed (${describeInstant(windowEndsAt, zone)})`);
    }
    return { type: 'defer', until: sendAt, rules };
  }

  let late = false;
  if (step.kind === 'thank_you') {
    const { deadline } = thankYouTimes(interview.endsAt, zone, policy);
    late = now > deadline;
    rules.push(
      late
        ? { rule: 'T1', outcome: 'adjust', detail: `late: after the on-time deadline (${describeInstant(deadline, zone)}) but within the grace period` }
        : pass('T1', `on time: before the deadline (${describeInstant(deadline, zone)})`),
    );
  }

  let channel: Channel;
  if (step.kind === 'call_task') {
    channel = 'phone';
    rules.push(...callTaskChannelRules());
  } else {
    const choice = chooseChannel(channelContactFor(step, interview), interview, policy, now);
    rules.push(...choice.rules);
    if (choice.channel === null) return { type: 'skip', reason: 'unreachable', rules };
    channel = choice.channel;
  }

  if (step.kind !== 'respond_to_concerns') {
    const held = approvalHold(step, policy, rules);
    if (held !== null) return held;
  }
  return { type: 'send', channel, late, rules };
}
