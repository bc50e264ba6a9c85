// The plan builder: the whole schedule the engine will follow from `now` if nothing else
// happens. It places each step where its timing rule puts it (T1, T3, T4, call-back, S3
// keep-in-touch), then replays time forward through `evaluate` itself: the earliest step is
// evaluated at its due time, a deferral moves it and it waits its turn again, a send becomes a
// message the later steps see (T5 spacing, T6 attempts, the final check-in's anchor). So the
// preview and the worker can never disagree: every step planned as `scheduled` is one that
// `evaluate` sends (or holds for approval) at exactly its `dueAt`, given the earlier sends.

import type {
  Channel,
  Decision,
  EvaluationFacts,
  InterviewFacts,
  PlanStatus,
  PlannedStep,
  Recipient,
  ReplyRecord,
  RuleResult,
  SentRecord,
  StepFacts,
  StepKind,
} from './types.js';
import type { PolicyDocument } from './policy-document.js';
import { addCalendarDays, describeInstant, localDateOf, nextBusinessMoment, startOfBusinessDayAfter } from './calendar.js';
import { chooseChannel } from './channel.js';
import { candidateZone, evaluate, interviewerZone, primaryContact, thankYouTimes } from './evaluate.js';
import { stepKey, stepKindRank } from './step-key.js';

export interface PlanInput {
  interview: InterviewFacts;
  policy: PolicyDocument;
  /** What has gone out already; these steps are not planned again. */
  sent: SentRecord[];
  replies: ReplyRecord[];
  /** Lower-cased emails and phones on the tenant's suppression list. */
  suppressedAddresses: string[];
  planStatus?: PlanStatus;
}

const HOUR_MS = 3_600_000;

/**
 * Replaying a plan takes a handful of evaluations per step; a few thousand means a rule keeps
 * deferring without progress, which is a bug to surface, not to loop on.
 */
const MAX_EVALUATIONS = 5_000;

/** A step being placed: its identity, where it stands now, and the rules that moved it so far. */
interface DraftStep {
  key: string;
  kind: StepKind;
  recipient: Recipient;
  /** Position of the recipient in the partner's list (the candidate after every interviewer). */
  recipientOrder: number;
  dueAt: Date;
  windowEndsAt: Date | null;
  rules: RuleResult[];
}

/** Emails compare case-insensitively; phone numbers also ignore spacing and punctuation. */
export function normalizeAddress(address: string): string {
  const lowered = address.trim().toLowerCase();
  return lowered.includes('@') ? lowered : lowered.replace(/[\s().-]/g, '');
}

/** S6: a recipient is suppressed when any of their addresses is on the list (opt-out or bounce). */
export function isSuppressed(recipient: Pick<Recipient, 'email' | 'phone'>, suppressedAddresses: readonly string[]): boolean {
  const suppressed = new Set(suppressedAddresses.map(normalizeAddress));
  return [recipient.email, recipient.phone].some((address) => address !== null && suppressed.has(normalizeAddress(address)));
}

function laterOf(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}

function describeDelay(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

function interviewerRecipient(interview: InterviewFacts, index: number): Recipient & { order: number } {
  const interviewer = interview.interviewers[index];
  if (interviewer === undefined) throw new RangeError(`no interviewer at position ${index}`);
  return {
    interviewerId: interviewer.id,
    name: interviewer.name,
    email: interviewer.email,
    phone: interviewer.phone,
    timezone: interviewerZone(interviewer, interview),
    order: index,
  };
}

function primaryRecipient(interview: InterviewFacts): Recipient & { order: number } {
  return interviewerRecipient(interview, interview.interviewers.indexOf(primaryContact(interview)));
}

function candidateRecipient(interview: InterviewFacts): Recipient & { order: number } {
  const { candidate } = interview;
  return {
    interviewerId: null,
    name: candidate.name,
    email: candidate.email,
    phone: candidate.phone,
    timezone: candidateZone(interview),
    order: interview.interviewers.length,
  };
}

function draft(
  kind: StepKind,
  recipient: Recipient & { order: number },
  dueAt: Date,
  windowEndsAt: Date | null,
  rules: RuleResult[],
): DraftStep {
  const { order, ...plainRecipient } = recipient;
  return { key: stepKey(kind, recipient.interviewerId), kind, recipient: plainRecipient, recipientOrder: order, dueAt, windowEndsAt, rules };
}

/** Recipient zones are stored resolved on the recipient, so a draft's zone is right there. */
function zoneOf(recipient: Recipient): string {
  if (recipient.timezone === null) throw new RangeError('a planned recipient always has a resolved zone');
  return recipient.timezone;
}

/** T1: one thank-you per interviewer not yet thanked. */
function thankYouDrafts(interview: InterviewFacts, policy: PolicyDocument, now: Date): DraftStep[] {
  return interview.interviewers.map((_, index) => {
    const recipient = interviewerRecipient(interview, index);
    const zone = zoneOf(recipient);
    const { notBefore, deadline, graceEnd } = thankYouTimes(interview.endsAt, zone, policy);
    const dueAt = nextBusinessMoment(laterOf(notBefore, now), zone, policy);
    return draft('thank_you', recipient, dueAt, graceEnd, [
      {
        rule: 'T1',
        outcome: 'adjust',
        detail: `due ${describeDelay(policy.thankYou.delayMinutes)} after the interview ended, at the first business moment in ${zone}; on time until ${describeInstant(deadline, zone)}, still sent (late) until ${describeInstant(graceEnd, zone)}`,
      },
    ]);
  });
}

/** T3 with a decision date, T4 without: the first check-in, to the primary contact. */
function checkInDraft(interview: InterviewFacts, policy: PolicyDocument, now: Date): DraftStep {
  const recipient = primaryRecipient(interview);
  const zone = zoneOf(recipient);
  const decision = interview.decisionExpectedBy;
  if (decision !== null) {
    const businessDays = policy.checkIn.afterDecisionBusinessDays;
    const decisionDate = localDateOf(decision, zone);
    const opening = startOfBusinessDayAfter(decisionDate, businessDays, zone, policy);
    return draft('check_in', recipient, nextBusinessMoment(laterOf(opening, now), zone, policy), null, [
      {
        rule: 'T3',
        outcome: 'adjust',
        detail: `a decision is expected on ${decisionDate}; the check-in waits for it and goes when business opens ${businessDays} business day(s) later, in ${zone}`,
      },
    ]);
  }
  const ruleTime = addCalendarDays(interview.endsAt, policy.checkIn.afterDays, zone);
  const windowEndsAt = addCalendarDays(ruleTime, policy.checkIn.windowDays, zone);
  return draft('check_in', recipient, nextBusinessMoment(laterOf(ruleTime, now), zone, policy), windowEndsAt, [
    {
      rule: 'T4',
      outcome: 'adjust',
      detail: `no decision date given: the check-in goes ${policy.checkIn.afterDays} day(s) after the interview, at the first business moment in ${zone}, and no later than ${describeInstant(windowEndsAt, zone)}`,
    },
  ]);
}

/**
 * The final check-in, `finalCheckIn.afterDays` after the check-in. Its position here is only a
 * first guess from the check-in's planned time; the replay settles it once the check-in is placed.
 */
function finalCheckInDraft(
  interview: InterviewFacts,
  policy: PolicyDocument,
  anchor: Date,
  now: Date,
): DraftStep {
  const recipient = primaryRecipient(interview);
  const zone = zoneOf(recipient);
  const afterDays = policy.finalCheckIn.afterDays;
  const dueAt = nextBusinessMoment(laterOf(addCalendarDays(anchor, afterDays, zone), now), zone, policy);
  return draft('final_check_in', recipient, dueAt, null, [
    { rule: 'T4', outcome: 'adjust', detail: `the final check-in goes ${afterDays} day(s) after the check-in, at a business moment in ${zone}` },
  ]);
}

/** A reminder to the candidate to call, once the stated call-back time has passed by `afterHours`. */
function callTaskDraft(interview: InterviewFacts, callBackExpectedBy: Date, policy: PolicyDocument, now: Date): DraftStep {
  const recipient = candidateRecipient(interview);
  const zone = zoneOf(recipient);
  const ruleTime = new Date(callBackExpectedBy.getTime() + policy.callTask.afterHours * HOUR_MS);
  return draft('call_task', recipient, nextBusinessMoment(laterOf(ruleTime, now), zone, policy), null, [
    {
      rule: 'T3',
      outcome: 'adjust',
      detail: `the interviewer said they would call back by ${describeInstant(callBackExpectedBy, zone)}; the reminder to call them comes ${policy.callTask.afterHours} h later, at the first business moment in ${zone}`,
    },
  ]);
}

/** S3: after a rejection, one note to keep the connection, when the policy enables it. */
function keepInTouchDraft(interview: InterviewFacts, policy: PolicyDocument, now: Date): DraftStep {
  const recipient = primaryRecipient(interview);
  const zone = zoneOf(recipient);
  const afterDays = policy.keepInTouch.afterDays;
  const ruleTime = addCalendarDays(interview.outcomeAt ?? now, afterDays, zone);
  return draft('keep_in_touch', recipient, nextBusinessMoment(laterOf(ruleTime, now), zone, policy), null, [
    {
      rule: 'S3',
      outcome: 'adjust',
      detail: `a rejection was recorded; a keep-in-touch note goes ${afterDays} day(s) after it, at the first business moment in ${zone}`,
    },
  ]);
}

/** Every step the policy calls for that has not gone out yet, at its first possible time. */
function draftSteps(input: PlanInput, now: Date): DraftStep[] {
  const { interview, policy, sent } = input;
  const alreadySent = new Set(sent.map((record) => stepKey(record.kind, record.interviewerId)));
  const drafts: DraftStep[] = [];

  if (policy.thankYou.enabled) drafts.push(...thankYouDrafts(interview, policy, now));

  const sentCheckIn = sent.filter((record) => record.kind === 'check_in').at(-1);
  let checkIn: DraftStep | null = null;
  if (policy.checkIn.enabled) {
    checkIn = checkInDraft(interview, policy, now);
    drafts.push(checkIn);
  }
  if (policy.finalCheckIn.enabled) {
    const anchor = sentCheckIn?.sentAt ?? checkIn?.dueAt ?? laterOf(interview.endsAt, now);
    drafts.push(finalCheckInDraft(interview, policy, anchor, now));
  }
  if (policy.callTask.enabled && interview.callBackExpectedBy !== null) {
    drafts.push(callTaskDraft(interview, interview.callBackExpectedBy, policy, now));
  }
  if (policy.keepInTouch.enabled && interview.outcome === 'rejected') drafts.push(keepInTouchDraft(interview, policy, now));

  return drafts.filter((step) => !alreadySent.has(step.key));
}

/** Plan order: due time, then kind, then the partner's order of recipients. */
function comparePlanOrder(
  a: { dueAt: Date; kind: StepKind; recipientOrder: number },
  b: { dueAt: Date; kind: StepKind; recipientOrder: number },
): number {
  return a.dueAt.getTime() - b.dueAt.getTime() || stepKindRank(a.kind) - stepKindRank(b.kind) || a.recipientOrder - b.recipientOrder;
}

function asStepFacts(step: DraftStep): StepFacts {
  return {
    id: step.key,
    key: step.key,
    kind: step.kind,
    // The evaluator chooses the channel afresh; this placeholder is never read.
    channel: 'email',
    recipient: step.recipient,
    dueAt: step.dueAt,
    windowEndsAt: step.windowEndsAt,
  };
}

/** In the plan, a rule that deferred a step did not block it: it moved it. */
function asAdjustments(decision: Decision): RuleResult[] {
  return decision.rules.filter((rule) => rule.outcome === 'block').map((rule) => ({ ...rule, outcome: 'adjust' }));
}

/** The channel a step that will not go would have used, so the plan still shows one. */
function nominalChannel(step: DraftStep, interview: InterviewFacts, policy: PolicyDocument): Channel {
  if (step.kind === 'call_task') return 'phone';
  const interviewer = interview.interviewers.find((candidate) => candidate.id === step.recipient.interviewerId);
  const contact = { email: step.recipient.email, phone: step.recipient.phone, preferredChannel: interviewer?.preferredChannel ?? null };
  return chooseChannel(contact, interview, policy, step.dueAt).channel ?? 'email';
}

function consentWarning(): RuleResult {
  return {
    rule: 'S6',
    outcome: 'block',
    detail: 'the candidate has not recorded consent: this step will be skipped unless consent is recorded before it is due',
  };
}

/** Builds the schedule from `now`. Steps already sent are not returned; see the module comment. */
export function buildPlan(input: PlanInput, now: Date): PlannedStep[] {
  const { interview, policy } = input;
  const planStatus = input.planStatus ?? 'active';
  // S4, S3 (withdrawn), and a plan already over: nothing is left to schedule.
  if (interview.status === 'cancelled' || interview.outcome === 'withdrawn') return [];
  if (planStatus === 'cancelled' || planStatus === 'completed') return [];
  // The partner always lists someone; an empty panel has nobody to write to.
  if (interview.interviewers.length === 0) return [];

  // Consent is checked when a step falls due (S6); the plan shows where the steps would go
  // once it is recorded, each with a warning.
  const consentGiven = interview.candidate.consent;
  const replayedInterview: InterviewFacts = consentGiven ? interview : { ...interview, candidate: { ...interview.candidate, consent: true } };

  const waiting = draftSteps(input, now);
  const sentSoFar: SentRecord[] = [...input.sent];
  const planned: Array<PlannedStep & { recipientOrder: number }> = [];

  for (let evaluations = 0; waiting.length > 0; evaluations += 1) {
    if (evaluations > MAX_EVALUATIONS) throw new Error('plan replay made no progress; a rule keeps deferring');
    waiting.sort(comparePlanOrder);
    const step = waiting.shift();
    if (step === undefined) break;
    const facts: EvaluationFacts = {
      interview: replayedInterview,
      policy,
      // A paused plan is previewed as it will run once resumed.
      planStatus: 'active',
      sent: sentSoFar,
      pending: waiting.map((other) => ({ id: other.key, key: other.key, kind: other.kind, recipient: other.recipient, dueAt: other.dueAt })),
      replies: input.replies,
      recipientSuppressed: isSuppressed(step.recipient, input.suppressedAddresses),
    };
    const decision = evaluate(asStepFacts(step), facts, step.dueAt);

    if (decision.type === 'defer') {
      if (decision.until <= step.dueAt) throw new Error(`evaluate deferred ${step.key} without moving it forward`);
      step.rules.push(...asAdjustments(decision));
      step.dueAt = decision.until;
      waiting.push(step);
      continue;
    }

    const goes = decision.type === 'send' || (decision.type === 'hold' && decision.reason === 'awaiting_approval');
    if (goes) {
      // A held message is assumed approved at once; the channel is the one it would go by.
      const released = decision.type === 'send' ? decision : evaluate({ ...asStepFacts(step), approved: true }, facts, step.dueAt);
      const channel = released.type === 'send' ? released.channel : nominalChannel(step, interview, policy);
      sentSoFar.push({ stepId: step.key, kind: step.kind, interviewerId: step.recipient.interviewerId, channel, sentAt: step.dueAt });
      planned.push({
        key: step.key,
        kind: step.kind,
        channel,
        recipient: step.recipient,
        dueAt: step.dueAt,
        windowEndsAt: step.windowEndsAt,
        status: 'scheduled',
        reason: null,
        rules: [...step.rules, ...decision.rules, ...(consentGiven ? [] : [consentWarning()])],
        recipientOrder: step.recipientOrder,
      });
      continue;
    }

    planned.push({
      key: step.key,
      kind: step.kind,
      channel: nominalChannel(step, interview, policy),
      recipient: step.recipient,
      dueAt: step.dueAt,
      windowEndsAt: step.windowEndsAt,
      status: 'skipped',
      reason: decision.reason,
      rules: [...step.rules, ...decision.rules],
      recipientOrder: step.recipientOrder,
    });
  }

  // The replay resolves steps in plan order already; sorting states the contract outright.
  return planned.sort(comparePlanOrder).map(({ recipientOrder: _order, ...step }) => step);
}
