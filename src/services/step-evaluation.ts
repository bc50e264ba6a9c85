import type { Kysely } from 'kysely';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import { claimDueSteps, lockPlans, type StepChanges, updateStep } from '../db/follow-up-plans.js';
import { insertMessages, type MessageChanges, updateMessage } from '../db/messages.js';
import type { Database, FollowUpStepRow, MessageRow, NewMessage } from '../db/schema.js';
import { findActiveEndpoints } from '../db/webhooks.js';
import { isPartnerDelivered } from '../domain/channel.js';
import { evaluate } from '../domain/evaluate.js';
import type { SpellChecker } from '../domain/lint.js';
import type { Channel, Decision, RuleResult } from '../domain/types.js';
import { cancelPlanSteps, settlePlanStatus } from './follow-up-plans.js';
import { composeStepMessage } from './message-composer.js';
import { evaluationFactsFor, loadPlanContexts, type PlanContext, stepFactsOf } from './plan-context.js';
import { enqueueWebhookEvents, type WebhookEvent } from './webhook-events.js';

// What happens when a step falls due: ask the policy engine, then write the outcome (the step's
// new state, its message, audit events, webhook events) in the caller's transaction.

export const WORKER_ACTOR = 'worker';

/** The writes one decision leads to, gathered so a batch can flush them together. */
export interface StepEffects {
  audit: NewAuditEvent[];
  events: WebhookEvent[];
  newMessages: NewMessage[];
  cancelPlanReason: string | null;
}

function emptyEffects(): StepEffects {
  return { audit: [], events: [], newMessages: [], cancelPlanReason: null };
}

export function stepEventData(context: PlanContext, step: FollowUpStepRow, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    stepId: step.id,
    planId: step.plan_id,
    interviewId: context.plan.interview_id,
    kind: step.kind,
    channel: step.channel,
    recipient: { name: step.recipient_name, email: step.recipient_email, phone: step.recipient_phone },
    ...extra,
  };
}

function messageSummary(message: Pick<NewMessage, 'id' | 'subject' | 'body' | 'to_address' | 'to_name' | 'channel'>) {
  return { id: message.id, channel: message.channel, to: { name: message.to_name, address: message.to_address }, subject: message.subject, body: message.body };
}

/**
 * Turns a decision into writes. A held message that was approved is released as it stands; any
 * other release writes a fresh message. Partner-delivered channels are handed over by webhook
 * (`followup.due`) and wait for the partner's report.
 */
export async function applyDecision(
  trx: Kysely<Database>,
  context: PlanContext,
  step: FollowUpStepRow,
  decision: Decision,
  spell: SpellChecker,
  now: Date,
  actor: string,
): Promise<StepEffects> {
  const effects = emptyEffects();
  const decisions = JSON.stringify(decision.rules);
  const evaluated = (data: Record<string, unknown>): NewAuditEvent => ({
    actor,
    action: 'step.evaluated',
    entityType: 'follow_up_step',
    entityId: step.id,
    data: { decision: decision.type, ...data, rules: decision.rules },
  });
  const existing = context.messages.find((message) => message.step_id === step.id && message.status === 'held');

  switch (decision.type) {
    case 'defer': {
      await updateStep(trx, step.tenant_id, step.id, { due_at: decision.until, decisions }, now);
      effects.audit.push(evaluated({ until: decision.until.toISOString() }));
      return effects;
    }
    case 'skip': {
      await updateStep(trx, step.tenant_id, step.id, { status: 'skipped', reason: decision.reason, decisions }, now);
      if (existing) await updateMessage(trx, step.tenant_id, existing.id, { status: 'cancelled' }, now);
      effects.audit.push(evaluated({ reason: decision.reason }));
      effects.events.push({ type: 'followup.skipped', data: stepEventData(context, step, { reason: decision.reason, decisions: decision.rules }) });
      return effects;
    }
    case 'cancel_plan': {
      effects.audit.push(evaluated({ reason: decision.reason }));
      effects.cancelPlanReason = decision.reason;
      return effects;
    }
    case 'hold': {
      if (decision.reason === 'plan_paused') {
        await updateStep(trx, step.tenant_id, step.id, { status: 'paused', decisions }, now);
        effects.audit.push(evaluated({ reason: decision.reason }));
        return effects;
      }
      // Held for the candidate's review: the message is written now so they can read it.
      const message = existing ?? compose(effects, context, step, step.channel as Channel, spell, now);
      const needsReview = hasErrors(message);
      await updateStep(
        trx,
        step.tenant_id,
        step.id,
        { status: needsReview ? 'needs_review' : 'awaiting_approval', reason: needsReview ? 'lint_errors' : decision.reason, decisions },
        now,
      );
      effects.audit.push(evaluated({ reason: decision.reason, messageId: message.id }));
      effects.events.push(awaitingApprovalEvent(context, step, message, needsReview ? 'lint_errors' : 'review', decision.rules));
      return effects;
    }
    case 'send': {
      const channel = decision.channel;
      const changes: StepChanges = { channel, late: decision.late, decisions, reason: null };
      // An approved message goes as the candidate approved it; anything else is written afresh.
      const approved = existing && step.approved ? existing : undefined;
      if (existing && !approved) await updateMessage(trx, step.tenant_id, existing.id, { status: 'cancelled' }, now);
      const message = approved ?? compose(effects, context, step, channel, spell, now);
      if (!approved && hasErrors(message)) {
        // An error-level lint finding holds the message for a person (POLICY.md, content rules).
        await updateStep(trx, step.tenant_id, step.id, { ...changes, status: 'needs_review', reason: 'lint_errors' }, now);
        effects.audit.push(evaluated({ channel, held: 'lint_errors', messageId: message.id }));
        effects.events.push(awaitingApprovalEvent(context, step, message, 'lint_errors', decision.rules));
        return effects;
      }
      const partner = isPartnerDelivered(channel);
      const release: MessageChanges = partner ? { status: 'awaiting_delivery', next_attempt_at: null } : { status: 'queued', next_attempt_at: now };
      if (approved) await updateMessage(trx, step.tenant_id, approved.id, release, now);
      else Object.assign(message, release);
      await updateStep(trx, step.tenant_id, step.id, { ...changes, status: 'queued' }, now);
      effects.audit.push(evaluated({ channel, late: decision.late, messageId: message.id }));
      if (partner) {
        effects.events.push({
          type: 'followup.due',
          data: stepEventData(context, { ...step, channel }, { message: messageSummary(message), late: decision.late, decisions: decision.rules }),
        });
      }
      return effects;
    }
  }
}

function awaitingApprovalEvent(
  context: PlanContext,
  step: FollowUpStepRow,
  message: MessageRow | NewMessage,
  reason: 'review' | 'lint_errors',
  rules: RuleResult[],
): WebhookEvent {
  return {
    type: 'followup.awaiting_approval',
    data: stepEventData(context, step, { messageId: message.id, reason, lintFindings: findingsOf(message), decisions: rules }),
  };
}

/** Writes a new message for the step (held until released) and records it among the effects. */
function compose(effects: StepEffects, context: PlanContext, step: FollowUpStepRow, channel: Channel, spell: SpellChecker, now: Date): NewMessage {
  const composed = composeStepMessage(context, step, channel, spell, now);
  effects.newMessages.push(composed.row);
  effects.audit.push({
    actor: WORKER_ACTOR,
    action: 'message.created',
    entityType: 'message',
    entityId: composed.row.id,
    data: { stepId: step.id, channel, lintFindings: composed.findings },
  });
  return composed.row;
}

/** Findings of a stored message (parsed) or of one about to be inserted (JSON text). */
function findingsOf(message: MessageRow | NewMessage): Array<{ rule: string; level: string; detail: string }> {
  const findings = message.lint_findings;
  return typeof findings === 'string' ? JSON.parse(findings) : findings;
}

function hasErrors(message: MessageRow | NewMessage): boolean {
  return findingsOf(message).some((finding) => finding.level === 'error');
}

/** Writes what a group of decisions produced, for one tenant, and closes plans that ended. */
export async function flushEffects(
  trx: Kysely<Database>,
  tenantId: string,
  contexts: Map<string, PlanContext>,
  effectsByPlan: Map<string, StepEffects[]>,
  now: Date,
  actor: string,
): Promise<void> {
  const audit: NewAuditEvent[] = [];
  const events: WebhookEvent[] = [];
  const messages: NewMessage[] = [];
  for (const [planId, list] of effectsByPlan) {
    const context = contexts.get(planId)!;
    for (const effects of list) {
      audit.push(...effects.audit);
      events.push(...effects.events);
      messages.push(...effects.newMessages);
    }
    const cancelReason = list.find((effects) => effects.cancelPlanReason)?.cancelPlanReason;
    if (cancelReason) {
      await insertMessages(trx, messages.splice(0));
      await cancelPlanSteps(trx, tenantId, actor, context.plan, cancelReason, now);
      continue;
    }
  }
  await insertMessages(trx, messages);
  for (const [planId] of effectsByPlan) {
    const context = contexts.get(planId)!;
    if (context.plan.status !== 'active') continue;
    const settled = await settlePlanStatus(trx, tenantId, context.plan, actor, now);
    audit.push(...settled.audit);
    if (settled.completed) events.push({ type: 'plan.completed', data: { planId, interviewId: context.plan.interview_id } });
  }
  await insertAuditEvents(trx, tenantId, audit);
  await enqueueWebhookEvents(trx, tenantId, events, now, await findActiveEndpoints(trx, tenantId));
}

function groupByTenant(steps: FollowUpStepRow[]): Map<string, FollowUpStepRow[]> {
  const groups = new Map<string, FollowUpStepRow[]>();
  for (const step of steps) groups.set(step.tenant_id, [...(groups.get(step.tenant_id) ?? []), step]);
  return groups;
}

export interface EvaluationBatchResult {
  claimed: number;
  /** Claimed steps whose plan another transaction held are left for the next batch. */
  evaluated: number;
  decisions: Record<Decision['type'], number>;
}

/**
 * One batch of the worker: claim due steps (locked for this transaction, so no other worker
 * sees them), evaluate each with fresh facts, and write every outcome in the same transaction.
 */
export async function evaluateDueSteps(
  db: Kysely<Database>,
  options: { now: Date; batchSize: number; spell: SpellChecker; onStepError?: (stepId: string, error: unknown) => void },
): Promise<EvaluationBatchResult> {
  const { now, spell } = options;
  const counts: Record<Decision['type'], number> = { send: 0, defer: 0, skip: 0, hold: 0, cancel_plan: 0 };
  const claimed = await db.transaction().execute(async (trx) => {
    const steps = await claimDueSteps(trx, now, options.batchSize);
    let evaluated = 0;
    for (const [tenantId, claimedSteps] of groupByTenant(steps)) {
      const locked = new Set((await lockPlans(trx, tenantId, [...new Set(claimedSteps.map((step) => step.plan_id))], { skipLocked: true })).map((plan) => plan.id));
      const tenantSteps = claimedSteps.filter((step) => locked.has(step.plan_id));
      evaluated += tenantSteps.length;
      const contexts = await loadPlanContexts(trx, tenantId, [...locked]);
      const effectsByPlan = new Map<string, StepEffects[]>();
      for (const step of tenantSteps) {
        const context = contexts.get(step.plan_id)!;
        let decision: Decision;
        try {
          decision = evaluate(stepFactsOf(step), evaluationFactsFor(context, step), now);
        } catch (error) {
          // A bug in the engine must not wedge the queue: the step fails, visibly, and the
          // batch goes on.
          options.onStepError?.(step.id, error);
          decision = { type: 'skip', reason: 'evaluation_error', rules: [] as RuleResult[] };
        }
        counts[decision.type] += 1;
        const effects = await applyDecision(trx, context, step, decision, spell, now, WORKER_ACTOR);
        effectsByPlan.set(step.plan_id, [...(effectsByPlan.get(step.plan_id) ?? []), effects]);
        // Later steps of the same plan must see this one's new state (T5, T6, threading).
        refreshContext(context, step, decision, effects, now);
      }
      await flushEffects(trx, tenantId, contexts, effectsByPlan, now, WORKER_ACTOR);
    }
    return { claimed: steps.length, evaluated };
  });
  return { claimed: claimed.claimed, evaluated: claimed.evaluated, decisions: counts };
}

/** Keeps the in-memory context in step with what was just written, for the next step of the batch. */
function refreshContext(context: PlanContext, step: FollowUpStepRow, decision: Decision, effects: StepEffects, now: Date): void {
  const index = context.steps.findIndex((other) => other.id === step.id);
  if (index < 0) return;
  const next: FollowUpStepRow = { ...step, updated_at: now };
  if (decision.type === 'skip') next.status = 'skipped';
  if (decision.type === 'defer') next.due_at = decision.until;
  if (decision.type === 'send') Object.assign(next, { status: 'queued', due_at: now, channel: decision.channel });
  if (decision.type === 'hold') next.status = 'awaiting_approval';
  context.steps[index] = next;
  for (const message of effects.newMessages) {
    context.messages.push({
      ...message,
      attempts: 0,
      references_header: JSON.parse(message.references_header),
      lint_findings: JSON.parse(message.lint_findings),
    } as MessageRow);
  }
}
