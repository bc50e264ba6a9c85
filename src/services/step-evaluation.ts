import type { Kysely } from 'kysely';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import { claimDueSteps, lockPlans, type StepState, updateStepStates } from '../db/follow-up-plans.js';
import { insertMessages, type MessageChanges, updateMessage } from '../db/messages.js';
import type { Database, FollowUpStepRow, MessageRow, NewMessage } from '../db/schema.js';
import { findActiveEndpoints } from '../db/webhooks.js';
import { isPartnerDelivered } from '../domain/channel.js';
import { evaluate } from '../domain/evaluate.js';
import { isLetterChannel, type SpellChecker } from '../domain/lint.js';
import type { Channel, Decision, RuleResult } from '../domain/types.js';
import { cancelPlanSteps, settlePlans } from './follow-up-plans.js';
import { attachCannedLetters, flushCannedLetters } from './canned-letters.js';
import { composeStepMessage } from './message-composer.js';
import { evaluationFactsFor, loadPlanContexts, type PlanContext, stepFactsOf, type TenantFacts } from './plan-context.js';
import { enqueueWebhookEvents, type WebhookEvent } from './webhook-events.js';

// What happens when a step falls due: ask the policy engine, then write the outcome (the step's
// new state, its message, audit events, webhook events) in the caller's transaction. Decisions
// are turned into writes in memory first, so a whole batch is written with a few statements.

export const WORKER_ACTOR = 'worker';

/** The writes one decision leads to. */
export interface StepEffects {
  step: StepState;
  /** The rule results `step.decisions` holds as JSON text, for the in-memory plan. */
  rules: RuleResult[];
  messageChanges: Array<{ id: string; changes: MessageChanges }>;
  newMessages: NewMessage[];
  audit: NewAuditEvent[];
  events: WebhookEvent[];
  cancelPlanReason: string | null;
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

/** The step's state as it stands, with new rule results (as JSON text, ready to write). */
function stateOf(step: FollowUpStepRow, rules: RuleResult[]): StepState {
  return {
    id: step.id,
    status: step.status,
    reason: step.reason,
    channel: step.channel,
    due_at: step.due_at,
    decisions: JSON.stringify(rules),
    late: step.late,
    approved: step.approved,
    sent_at: step.sent_at,
  };
}

/** Findings of a stored message (parsed) or of one about to be inserted (JSON text). */
function findingsOf(message: MessageRow | NewMessage): Array<{ rule: string; level: string; detail: string }> {
  const findings = message.lint_findings;
  return typeof findings === 'string' ? JSON.parse(findings) : findings;
}

function hasErrors(message: MessageRow | NewMessage): boolean {
  return findingsOf(message).some((finding) => finding.level === 'error');
}

/**
 * Turns a decision into writes. A held message that was approved is released as it stands; any
 * other release writes a fresh message. Partner-delivered channels are handed over by webhook
 * (`followup.due`) and wait for the partner's report. Nothing is written here.
 */
export function decideEffects(
  context: PlanContext,
  step: FollowUpStepRow,
  decision: Decision,
  spell: SpellChecker,
  now: Date,
  actor: string,
): StepEffects {
  const effects: StepEffects = {
    step: stateOf(step, decision.rules),
    rules: decision.rules,
    messageChanges: [],
    newMessages: [],
    audit: [],
    events: [],
    cancelPlanReason: null,
  };
  const evaluated = (data: Record<string, unknown>): NewAuditEvent => ({
    actor,
    action: 'step.evaluated',
    entityType: 'follow_up_step',
    entityId: step.id,
    data: { decision: decision.type, ...data, rules: decision.rules },
  });
  const compose = (channel: Channel): NewMessage => {
    const composed = composeStepMessage(context, step, channel, spell, now);
    effects.newMessages.push(composed.row);
    effects.audit.push({
      actor,
      action: 'message.created',
      entityType: 'message',
      entityId: composed.row.id,
      data: { stepId: step.id, channel, lintFindings: composed.findings },
    });
    return composed.row;
  };
  const awaitingApproval = (message: MessageRow | NewMessage, reason: 'review' | 'lint_errors', rules: RuleResult[]): WebhookEvent => ({
    type: 'followup.awaiting_approval',
    data: stepEventData(context, step, { messageId: message.id, reason, lintFindings: findingsOf(message), decisions: rules }),
  });
  const existing = context.messages.find((message) => message.step_id === step.id && message.status === 'held');

  switch (decision.type) {
    case 'defer':
      effects.step.due_at = decision.until;
      effects.audit.push(evaluated({ until: decision.until.toISOString() }));
      return effects;
    case 'skip':
      Object.assign(effects.step, { status: 'skipped', reason: decision.reason });
      if (existing) effects.messageChanges.push({ id: existing.id, changes: { status: 'cancelled' } });
      effects.audit.push(evaluated({ reason: decision.reason }));
      effects.events.push({ type: 'followup.skipped', data: stepEventData(context, step, { reason: decision.reason, decisions: decision.rules }) });
      return effects;
    case 'cancel_plan':
      effects.audit.push(evaluated({ reason: decision.reason }));
      effects.cancelPlanReason = decision.reason;
      return effects;
    case 'hold': {
      if (decision.reason === 'plan_paused') {
        effects.step.status = 'paused';
        effects.audit.push(evaluated({ reason: decision.reason }));
        return effects;
      }
      // Held for the candidate's review: the message is written now so they can read it.
      const message = existing ?? compose(step.channel as Channel);
      const needsReview = hasErrors(message);
      Object.assign(effects.step, { status: needsReview ? 'needs_review' : 'awaiting_approval', reason: needsReview ? 'lint_errors' : decision.reason });
      effects.audit.push(evaluated({ reason: decision.reason, messageId: message.id }));
      effects.events.push(awaitingApproval(message, needsReview ? 'lint_errors' : 'review', decision.rules));
      return effects;
    }
    case 'send': {
      const channel = decision.channel;
      Object.assign(effects.step, { channel, late: decision.late, reason: null });
      // An approved message goes as the candidate approved it; anything else is written afresh.
      const approved = existing && step.approved ? existing : undefined;
      if (existing && !approved) effects.messageChanges.push({ id: existing.id, changes: { status: 'cancelled' } });
      const message = approved ?? compose(channel);
      if (!approved && hasErrors(message)) {
        // An error-level lint finding holds the message for a person (POLICY.md, content rules).
        Object.assign(effects.step, { status: 'needs_review', reason: 'lint_errors' });
        effects.audit.push(evaluated({ channel, held: 'lint_errors', messageId: message.id }));
        effects.events.push(awaitingApproval(message, 'lint_errors', decision.rules));
        return effects;
      }
      const partner = isPartnerDelivered(channel);
      const release: MessageChanges = partner ? { status: 'awaiting_delivery', next_attempt_at: null } : { status: 'queued', next_attempt_at: now };
      if (approved) effects.messageChanges.push({ id: approved.id, changes: release });
      else Object.assign(message, release);
      // Released now: from here on it counts as gone for spacing and attempts (T5, T6).
      Object.assign(effects.step, { status: 'queued', due_at: now });
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

/** Keeps the in-memory context in step with the decided writes, for later steps of the same plan. */
function applyToContext(context: PlanContext, effects: StepEffects): void {
  const index = context.steps.findIndex((other) => other.id === effects.step.id);
  if (index >= 0) {
    const { decisions: _json, ...state } = effects.step;
    context.steps[index] = { ...context.steps[index]!, ...state, decisions: effects.rules };
  }
  for (const message of effects.newMessages) {
    context.messages.push({
      ...message,
      attempts: 0,
      references_header: JSON.parse(message.references_header),
      lint_findings: JSON.parse(message.lint_findings),
    } as MessageRow);
  }
}

/** Writes what a group of decisions produced, for one tenant, with a handful of statements, and settles the plans. */
export async function flushEffects(
  trx: Kysely<Database>,
  tenantId: string,
  contexts: Map<string, PlanContext>,
  effectsByPlan: Map<string, StepEffects[]>,
  now: Date,
  actor: string,
): Promise<void> {
  const all = [...effectsByPlan.values()].flat();
  await updateStepStates(trx, tenantId, all.map((effects) => effects.step), now);
  await insertMessages(trx, all.flatMap((effects) => effects.newMessages));
  for (const { id, changes } of all.flatMap((effects) => effects.messageChanges)) await updateMessage(trx, tenantId, id, changes, now);

  const audit = all.flatMap((effects) => effects.audit);
  const events = all.flatMap((effects) => effects.events);
  const settling = [];
  for (const [planId, list] of effectsByPlan) {
    const context = contexts.get(planId)!;
    const cancelReason = list.find((effects) => effects.cancelPlanReason)?.cancelPlanReason;
    if (cancelReason) await cancelPlanSteps(trx, tenantId, actor, context.plan, cancelReason, now);
    else settling.push(context.plan);
  }
  const settled = await settlePlans(trx, tenantId, settling, actor, now);
  audit.push(...settled.audit);
  events.push(...settled.events);
  await insertAuditEvents(trx, tenantId, audit);
  if (events.length > 0) await enqueueWebhookEvents(trx, tenantId, events, now, await findActiveEndpoints(trx, tenantId));
}

/** Decides and writes one step outside the worker (an approval, a new answer to concerns). */
export async function evaluateStepNow(
  trx: Kysely<Database>,
  context: PlanContext,
  step: FollowUpStepRow,
  spell: SpellChecker,
  now: Date,
  actor: string,
  extraAudit: NewAuditEvent[] = [],
): Promise<Decision> {
  const decision = evaluate(stepFactsOf(step), evaluationFactsFor(context, step), now);
  const effects = decideEffects(context, step, decision, spell, now, actor);
  effects.audit.unshift(...extraAudit);
  applyToContext(context, effects);
  await flushEffects(trx, context.tenant.tenant_id, new Map([[context.plan.id, context]]), new Map([[context.plan.id, [effects]]]), now, actor);
  await flushCannedLetters(trx, context.canned);
  return decision;
}

function groupByTenant(steps: FollowUpStepRow[]): Map<string, FollowUpStepRow[]> {
  const groups = new Map<string, FollowUpStepRow[]>();
  for (const step of steps) groups.set(step.tenant_id, [...(groups.get(step.tenant_id) ?? []), step]);
  return groups;
}

export interface EvaluationBatchResult {
  /** Plans claimed (each with all of its due steps): none means nothing more can be claimed now. */
  plans: number;
  claimed: number;
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
  return db.transaction().execute(async (trx) => {
    // The plans come locked with their steps: no other worker or API call changes them meanwhile.
    const { plans, steps } = await claimDueSteps(trx, options.now, options.batchSize);
    return { ...(await evaluateClaimedSteps(trx, steps, { ...options, plans: 'locked' })), plans };
  });
}

/** What one tenant's batches share: its tenant row and policy, and the L12 letters read once. */
export interface SharedBatchFacts {
  tenantId: string;
  facts: TenantFacts;
  canned?: typeof attachCannedLetters;
}

/**
 * Evaluates claimed steps at `now` and writes every outcome in the caller's transaction. Their
 * plans are locked here (`plans: 'wait'`: a plan another transaction holds is waited for, as a
 * sandbox's advance must not leave anything due behind) unless the claim locked them already.
 */
export async function evaluateClaimedSteps(
  trx: Kysely<Database>,
  steps: FollowUpStepRow[],
  options: {
    now: Date;
    spell: SpellChecker;
    plans: 'locked' | 'wait';
    onStepError?: (stepId: string, error: unknown) => void;
    /** When each step is evaluated (default `now`, which the batch's writes are stamped with). */
    nowOf?: (step: FollowUpStepRow) => Date;
    /** For one tenant's work (an advance of its test clock): what stays the same from batch to batch. */
    shared?: SharedBatchFacts;
  },
): Promise<Omit<EvaluationBatchResult, 'plans'>> {
  const { now, spell } = options;
  const nowOf = options.nowOf ?? (() => now);
  const decisions: Record<Decision['type'], number> = { send: 0, defer: 0, skip: 0, hold: 0, cancel_plan: 0 };
  let evaluated = 0;
  for (const [tenantId, claimedSteps] of groupByTenant(steps)) {
    const planIds = [...new Set(claimedSteps.map((step) => step.plan_id))];
    const locked = options.plans === 'locked' ? planIds : (await lockPlans(trx, tenantId, planIds, { skipLocked: false })).map((plan) => plan.id);
    const shared = options.shared?.tenantId === tenantId ? options.shared : undefined;
    const contexts = await loadPlanContexts(trx, tenantId, locked, shared?.facts);
    // L12: one read of the recent letters to these companies and people, for the whole batch.
    const canned = claimedSteps.some((step) => step.kind !== 'call_task' && isLetterChannel(step.channel as Channel))
      ? await (shared?.canned ?? attachCannedLetters)(trx, tenantId, contexts.values(), now)
      : undefined;
    const effectsByPlan = new Map<string, StepEffects[]>();
    for (const step of claimedSteps) {
      const context = contexts.get(step.plan_id);
      if (!context) continue;
      evaluated += 1;
      let decision: Decision;
      try {
        decision = evaluate(stepFactsOf(step), evaluationFactsFor(context, step), nowOf(step));
      } catch (error) {
        // A bug in the engine must not wedge the queue: the step is skipped, visibly, and the
        // batch goes on.
        options.onStepError?.(step.id, error);
        decision = { type: 'skip', reason: 'evaluation_error', rules: [] };
      }
      decisions[decision.type] += 1;
      const effects = decideEffects(context, step, decision, spell, nowOf(step), WORKER_ACTOR);
      applyToContext(context, effects);
      effectsByPlan.set(step.plan_id, [...(effectsByPlan.get(step.plan_id) ?? []), effects]);
    }
    await flushEffects(trx, tenantId, contexts, effectsByPlan, now, WORKER_ACTOR);
    await flushCannedLetters(trx, canned);
  }
  return { claimed: steps.length, evaluated, decisions };
}
