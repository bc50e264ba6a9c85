import type { Kysely } from 'kysely';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import {
  findPlanByInterviewForUpdate,
  findPlanForUpdate,
  findStepForUpdate,
  findStepsByIds,
  findStepsByPlanIds,
  insertSteps,
  lockPlans,
  setStepStatusForPlan,
  updatePlanStatus,
  updateStep,
} from '../db/follow-up-plans.js';
import { isId, newId } from '../db/ids.js';
import { findInterviewForUpdate, updateInterviewRow } from '../db/interviews.js';
import { cancelUnsentMessagesOfSteps, findMessagesByStepIds, updateMessage } from '../db/messages.js';
import { insertReply } from '../db/replies.js';
import type { Database, FollowUpPlanRow, ReplyRow } from '../db/schema.js';
import { findActiveEndpoints } from '../db/webhooks.js';
import { isPartnerDelivered } from '../domain/channel.js';
import { isEmployerSide, type ReplyPeople } from '../domain/employer-reply.js';
import type { SpellChecker } from '../domain/lint.js';
import { stepKey } from '../domain/step-key.js';
import type { Channel, Outcome, StepKind } from '../domain/types.js';
import { requireOwnRow } from './candidate-scope.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, conflict, notFound } from './errors.js';
import {
  cancelPlanSteps,
  type FollowUpPlanView,
  type FollowUpStepView,
  PENDING_STATUSES,
  replanInterview,
  settlePlans,
  type StepStatus,
  toPlanView,
  toStepView,
} from './follow-up-plans.js';
import { parseInput, recordOutcomeSchema, type RecordReplyInput, recordReplySchema } from './inputs.js';
import { loadInterviewFacts } from './interview-facts.js';
import { type InterviewView, toInterviewView } from './interviews.js';
import { loadPlanContext } from './plan-context.js';
import { evaluateStepNow, stepEventData } from './step-evaluation.js';
import { enqueueWebhookEvents, type WebhookEvent } from './webhook-events.js';
import { signalWorkDue } from '../db/work-signals.js';

// Events from the outside world that change a plan: a reply (S1, S2), an outcome (S3), the
// partner pausing, resuming or cancelling, and the partner reporting a delivery (C4).

/** What S1 and S3 stop: the steps that ask the employer for news. */
const NUDGE_KINDS: readonly StepKind[] = ['check_in', 'final_check_in', 'call_task'];

export interface ReplyView {
  id: string;
  interviewId: string;
  fromEmail: string;
  fromName: string | null;
  receivedAt: Date;
  raisesConcerns: boolean;
  /** The employer side answered (S1): an interviewer, their company's domain, or the partner said so. */
  fromEmployer: boolean;
  concerns: string | null;
  kind: 'human' | 'auto_reply' | 'bounce';
  /** Mail read by the service: the reply's own words, without what it quotes. */
  text: string | null;
  cancelledStepIds: string[];
  /** S2: the answer the candidate is to write, when the reply raised concerns. */
  respondToConcernsStepId: string | null;
}

/** The people the employer-side rule (S1) compares a sender with. */
export function peopleOf(facts: { candidate: { email: string }; interviewers: Array<{ email: string | null }> }): ReplyPeople {
  return { candidateEmail: facts.candidate.email, interviewerEmails: facts.interviewers.flatMap((person) => (person.email ? [person.email] : [])) };
}

/** Cancels a plan's pending steps of the given kinds; their unsent messages stop too. */
async function cancelPendingNudges(
  trx: Kysely<Database>,
  tenantId: string,
  plan: FollowUpPlanRow,
  reason: string,
  actor: string,
  now: Date,
): Promise<{ ids: string[]; audit: NewAuditEvent[] }> {
  const steps = await findStepsByPlanIds(trx, tenantId, [plan.id]);
  const stopped = steps.filter((step) => NUDGE_KINDS.includes(step.kind as StepKind) && PENDING_STATUSES.includes(step.status as StepStatus));
  for (const step of stopped) await updateStep(trx, tenantId, step.id, { status: 'cancelled', reason }, now);
  await cancelUnsentMessagesOfSteps(trx, tenantId, stopped.map((step) => step.id), now);
  return {
    ids: stopped.map((step) => step.id),
    audit: stopped.map((step) => ({ actor, action: 'step.cancelled', entityType: 'follow_up_step', entityId: step.id, data: { from: step.status, reason } })),
  };
}

/**
 * S1: any reply from the employer side stops every pending nudge of the plan (thank-yous to
 * others still go). S2: a reply raising concerns adds an answer for the candidate to write,
 * held for review. A reply from the candidate's own address is recorded and changes nothing.
 */
export async function recordReply(ctx: ServiceContext, caller: Caller, rawInput: unknown): Promise<ReplyView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'record replies');
  const input = parseInput(recordReplySchema, rawInput, 'input');
  if (!isId(input.interviewId)) throw notFound('interview', input.interviewId);
  const now = ctx.clock();
  return ctx.db.transaction().execute((trx) => recordReplyIn(trx, ctx.spell, caller, input, now));
}

/** What mail read by the service adds to a reply: its kind, its text, the message it came in. */
export interface InboundReplyFacts {
  kind: 'human' | 'auto_reply' | 'bounce';
  text: string | null;
  inboundMessageId: string;
}

/**
 * recordReply's effects inside a transaction the caller holds (the inbound mail service records
 * a reply together with the rest of what the message causes). An automatic answer or a bounce
 * is kept as a reply of that kind and never counts as the employer's.
 */
export async function recordReplyIn(
  trx: Kysely<Database>,
  spell: SpellChecker,
  caller: Caller,
  input: RecordReplyInput,
  now: Date,
  inbound?: InboundReplyFacts,
): Promise<ReplyView> {
  const interview = await findInterviewForUpdate(trx, caller.tenantId, input.interviewId);
  if (!interview) throw notFound('interview', input.interviewId);
  const receivedAt = input.receivedAt ?? now;
  if (receivedAt.getTime() > now.getTime() + 5 * 60_000) throw badInput('input.receivedAt', 'must not be in the future');
  const facts = (await loadInterviewFacts(trx, caller.tenantId, interview.id))!;
  const kind = inbound?.kind ?? 'human';
  const fromEmployer = kind === 'human' && isEmployerSide({ fromEmail: input.fromEmail, fromEmployer: input.fromEmployer }, peopleOf(facts));
  const concerns = input.concerns?.trim() || null;
  const reply = await insertReply(trx, {
    tenant_id: caller.tenantId,
    id: newId(),
    interview_id: interview.id,
    from_email: input.fromEmail,
    from_name: input.fromName ?? null,
    received_at: receivedAt,
    raises_concerns: (input.raisesConcerns ?? false) || concerns !== null,
    from_employer: fromEmployer,
    concerns,
    kind,
    text: inbound?.text ?? null,
    inbound_message_id: inbound?.inboundMessageId ?? null,
  });
  const replyFacts = { fromEmployer, raisesConcerns: reply.raises_concerns, receivedAt: receivedAt.toISOString() };
  const audit: NewAuditEvent[] = [
    { actor: caller.sub, action: 'reply.recorded', entityType: 'reply', entityId: reply.id, data: { interviewId: interview.id, ...replyFacts } },
    { actor: caller.sub, action: 'interview.reply_recorded', entityType: 'interview', entityId: interview.id, data: { replyId: reply.id, ...replyFacts } },
  ];
  const events: WebhookEvent[] = [];
  let cancelledStepIds: string[] = [];
  let concernsStepId: string | null = null;

  const plan = await findPlanByInterviewForUpdate(trx, caller.tenantId, interview.id);
  if (plan && fromEmployer && plan.status !== 'cancelled') {
    const stopped = await cancelPendingNudges(trx, caller.tenantId, plan, 'employer_replied', caller.sub, now);
    cancelledStepIds = stopped.ids;
    audit.push(...stopped.audit);
    if (reply.raises_concerns && facts.company.followUpStyle !== 'none') {
      concernsStepId = await addConcernsStep(trx, spell, caller, plan, reply, now);
    }
    const completion = await settlePlans(trx, caller.tenantId, [plan], caller.sub, now);
    audit.push(...completion.audit);
    events.push(...completion.events);
  }
  await insertAuditEvents(trx, caller.tenantId, audit);
  await enqueueWebhookEvents(trx, caller.tenantId, events, now);
  return {
    id: reply.id,
    interviewId: interview.id,
    fromEmail: reply.from_email,
    fromName: reply.from_name,
    receivedAt,
    raisesConcerns: reply.raises_concerns,
    fromEmployer,
    concerns,
    kind,
    text: reply.text,
    cancelledStepIds,
    respondToConcernsStepId: concernsStepId,
  };
}

/** S2: a step for the candidate to answer the concerns, evaluated at once (so held for review). */
async function addConcernsStep(
  trx: Kysely<Database>,
  spell: SpellChecker,
  caller: Caller,
  plan: FollowUpPlanRow,
  reply: ReplyRow,
  now: Date,
): Promise<string> {
  const context = (await loadPlanContext(trx, caller.tenantId, plan.id))!;
  const sender = context.facts.interviewers.find((interviewer) => interviewer.email?.toLowerCase() === reply.from_email.toLowerCase());
  const recipient = {
    interviewerId: sender?.id ?? null,
    name: sender?.name ?? reply.from_name ?? reply.from_email,
    email: reply.from_email,
    phone: sender?.phone ?? null,
    timezone: sender?.timezone ?? context.facts.company.timezone ?? context.facts.timezone,
  };
  const [step] = await insertSteps(trx, [
    {
      tenant_id: caller.tenantId,
      id: newId(),
      plan_id: plan.id,
      key: stepKey('respond_to_concerns', recipient.interviewerId ?? reply.from_email.toLowerCase(), reply.id),
      kind: 'respond_to_concerns',
      channel: 'email',
      status: 'scheduled',
      reason: null,
      recipient_interviewer_id: recipient.interviewerId,
      recipient_name: recipient.name,
      recipient_email: recipient.email,
      recipient_phone: recipient.phone,
      recipient_timezone: recipient.timezone,
      due_at: now,
      window_ends_at: null,
      decisions: JSON.stringify([{ rule: 'S2', outcome: 'adjust', detail: 'the reply raised concerns: the candidate answers them, reviewed before it goes' }]),
      created_at: now,
      updated_at: now,
    },
  ]);
  context.steps.push(step!);
  await evaluateStepNow(trx, context, step!, spell, now, caller.sub, [
    { actor: caller.sub, action: 'step.planned', entityType: 'follow_up_step', entityId: step!.id, data: { kind: 'respond_to_concerns', replyId: reply.id } },
  ]);
  return step!.id;
}

/**
 * S3: an outcome stops the nudges (a thank-you not yet sent still goes); a rejection may add a
 * keep-in-touch note; a withdrawal ends the plan.
 */
export async function recordOutcome(ctx: ServiceContext, caller: Caller, rawInput: unknown): Promise<InterviewView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'record outcomes');
  const input = parseInput(recordOutcomeSchema, rawInput);
  if (!isId(input.interviewId)) throw notFound('interview', input.interviewId);
  const now = ctx.clock();
  const outcome = input.outcome as Outcome;
  return ctx.db.transaction().execute(async (trx) => {
    const current = await findInterviewForUpdate(trx, caller.tenantId, input.interviewId);
    if (!current) throw notFound('interview', input.interviewId);
    const interview = await updateInterviewRow(trx, caller.tenantId, current.id, { outcome, outcome_at: now });
    const audit: NewAuditEvent[] = [
      { actor: caller.sub, action: 'interview.outcome_recorded', entityType: 'interview', entityId: current.id, data: { from: current.outcome, to: outcome } },
    ];
    const events: WebhookEvent[] = [];
    const plan = await findPlanByInterviewForUpdate(trx, caller.tenantId, current.id);
    if (plan && plan.status !== 'cancelled') {
      if (outcome === 'withdrawn') {
        await cancelPlanSteps(trx, caller.tenantId, caller.sub, plan, 'withdrawn', now);
      } else {
        const stopped = await cancelPendingNudges(trx, caller.tenantId, plan, `outcome_${outcome}`, caller.sub, now);
        audit.push(...stopped.audit);
        // A rejection may call for a keep-in-touch note (when the policy enables it); a later,
        // different outcome withdraws one not yet sent.
        await replanInterview(trx, caller.tenantId, caller.sub, (await loadInterviewFacts(trx, caller.tenantId, current.id))!, now, `outcome_${outcome}`);
        const completion = await settlePlans(trx, caller.tenantId, [(await findPlanForUpdate(trx, caller.tenantId, plan.id))!], caller.sub, now);
        audit.push(...completion.audit);
        events.push(...completion.events);
      }
    }
    await insertAuditEvents(trx, caller.tenantId, audit);
    await enqueueWebhookEvents(trx, caller.tenantId, events, now);
    return toInterviewView(interview);
  });
}

async function lockPlan(trx: Kysely<Database>, caller: Caller, id: string): Promise<FollowUpPlanRow> {
  const plan = isId(id) ? await findPlanForUpdate(trx, caller.tenantId, id) : undefined;
  if (!plan) throw notFound('follow-up plan', id);
  return plan;
}

/** Holds every waiting step of the plan where it is; nothing new is evaluated until resumed. */
export async function pauseFollowUpPlan(ctx: ServiceContext, caller: Caller, id: string): Promise<FollowUpPlanView> {
  requireScope(caller, 'followups:write');
  if (isId(id)) await requireOwnRow(ctx.db, caller, 'plan', id, 'follow-up plan');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const plan = await lockPlan(trx, caller, id);
    if (plan.status !== 'active') throw conflict(`the plan is ${plan.status}; only an active plan can be paused`);
    const paused = await setStepStatusForPlan(trx, caller.tenantId, plan.id, 'scheduled', 'paused', now);
    const updated = await updatePlanStatus(trx, caller.tenantId, plan.id, 'paused', null, now);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'plan.paused', entityType: 'follow_up_plan', entityId: plan.id, data: { stepsPaused: paused.length } },
    ]);
    return toPlanView(updated);
  });
}

/** Picks the plan up again from now: waiting steps are timed afresh (a window that closed meanwhile is missed). */
export async function resumeFollowUpPlan(ctx: ServiceContext, caller: Caller, id: string): Promise<FollowUpPlanView> {
  requireScope(caller, 'followups:write');
  if (isId(id)) await requireOwnRow(ctx.db, caller, 'plan', id, 'follow-up plan');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const plan = await lockPlan(trx, caller, id);
    if (plan.status !== 'paused') throw conflict(`the plan is ${plan.status}; only a paused plan can be resumed`);
    await setStepStatusForPlan(trx, caller.tenantId, plan.id, 'paused', 'scheduled', now);
    await updatePlanStatus(trx, caller.tenantId, plan.id, 'active', null, now);
    await insertAuditEvents(trx, caller.tenantId, [{ actor: caller.sub, action: 'plan.resumed', entityType: 'follow_up_plan', entityId: plan.id, data: {} }]);
    // Only the waiting steps are timed afresh: a skipped or cancelled step keeps its reason.
    await replanInterview(trx, caller.tenantId, caller.sub, (await loadInterviewFacts(trx, caller.tenantId, plan.interview_id))!, now, 'plan_resumed', ['scheduled']);
    return toPlanView((await findPlanForUpdate(trx, caller.tenantId, plan.id))!);
  });
}

export async function cancelFollowUpPlan(ctx: ServiceContext, caller: Caller, id: string, reason: string | null | undefined): Promise<FollowUpPlanView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'cancel follow-up plans');
  const why = reason?.trim() || 'cancelled_by_partner';
  if (why.length > 200 || /[\u0000-\u001f]/.test(why)) throw badInput('reason', 'must be one line of at most 200 characters');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const plan = await lockPlan(trx, caller, id);
    if (plan.status === 'cancelled' || plan.status === 'completed') throw conflict(`the plan is already ${plan.status}`);
    return toPlanView(await cancelPlanSteps(trx, caller.tenantId, caller.sub, plan, why, now));
  });
}

/**
 * C4: the partner reports that a message it delivers (SMS, LinkedIn, a call, a handwritten
 * note) went out; from then on it counts like a sent message (T5, T6).
 */
export async function markStepDelivered(ctx: ServiceContext, caller: Caller, id: string): Promise<FollowUpStepView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'mark steps delivered');
  if (!isId(id)) throw notFound('follow-up step', id);
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const [seen] = await findStepsByIds(trx, caller.tenantId, [id]);
    if (!seen) throw notFound('follow-up step', id);
    await lockPlans(trx, caller.tenantId, [seen.plan_id], { skipLocked: false });
    const step = (await findStepForUpdate(trx, caller.tenantId, id))!;
    if (!isPartnerDelivered(step.channel as Channel)) throw badInput('id', 'is an email step: Afterview sends those and records their delivery itself');
    const [message] = await findMessagesByStepIds(trx, caller.tenantId, [step.id]);
    if (step.status !== 'queued' || message?.status !== 'awaiting_delivery') {
      throw conflict(`the step is ${step.status}, not waiting for the partner to deliver it`);
    }
    const delivered = await updateStep(trx, caller.tenantId, step.id, { status: 'sent', sent_at: now }, now);
    await updateMessage(trx, caller.tenantId, message.id, { status: 'sent', sent_at: now }, now);
    const context = (await loadPlanContext(trx, caller.tenantId, step.plan_id))!;
    const completion = await settlePlans(trx, caller.tenantId, [context.plan], caller.sub, now);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'step.delivered', entityType: 'follow_up_step', entityId: step.id, data: { channel: step.channel, messageId: message.id } },
      { actor: caller.sub, action: 'message.sent', entityType: 'message', entityId: message.id, data: { reportedBy: 'partner' } },
      ...completion.audit,
    ]);
    await enqueueWebhookEvents(
      trx,
      caller.tenantId,
      [
        {
          type: 'followup.sent',
          data: {
            ...stepEventData(context, delivered),
            messageId: message.id,
            messageIdHeader: message.message_id_header,
            sentAt: now.toISOString(),
            decisions: delivered.decisions,
          },
        },
        ...completion.events,
      ],
      now,
      await findActiveEndpoints(trx, caller.tenantId),
    );
    // The partner's followup.sent (and a completed plan's events) go out at once.
    await signalWorkDue(trx, 'webhooks');
    return toStepView(delivered);
  });
}
