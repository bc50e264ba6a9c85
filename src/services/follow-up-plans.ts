import type { Kysely } from 'kysely';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import {
  findPlanByInterviewForUpdate,
  findPlansByIds,
  findPlansByInterviewIds,
  findStepsByIds,
  findStepsByPlanIds,
  insertPlan,
  insertSteps,
  movePlansByPendingSteps,
  listSteps,
  type StepChanges,
  updatePlanStatus,
  updateStep,
} from '../db/follow-up-plans.js';
import { isId, newId } from '../db/ids.js';
import { cancelUnsentMessagesOfSteps } from '../db/messages.js';
import type { Database, FollowUpPlanColumn, FollowUpPlanRow, FollowUpStepColumn, FollowUpStepRow, ReplyRow } from '../db/schema.js';
import { buildPlan, type PlanInput } from '../domain/plan-builder.js';
import { findRepliesByInterviewIds } from '../db/replies.js';
import { findSuppressedAddresses } from '../db/suppressions.js';
import { signalWorkDue, STEP_ALARM_HORIZON_MS } from '../db/work-signals.js';
import type { PolicyDocument } from '../domain/policy-document.js';
import type {
  Channel,
  InterviewFacts,
  PlannedStep,
  PlanStatus,
  Recipient,
  ReplyRecord,
  RuleResult,
  SentRecord,
  StepKind,
} from '../domain/types.js';
import { requireOwnRow } from './candidate-scope.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { conflict, notFound } from './errors.js';
import { loadInterviewFacts } from './interview-facts.js';
import { encodeTimeCursor, type Page, type PageRequest, timePageWindow, toPage } from './pagination.js';
import { loadPolicy } from './policies.js';
import { type ColumnsOf, columnsFor, type ViewFields } from './projection.js';
import { enqueueWebhookEvents, type WebhookEvent } from './webhook-events.js';

/** `paused`: a scheduled step of a paused plan, out of the worker's way (shown as SCHEDULED). */
export type StepStatus = 'scheduled' | 'paused' | 'awaiting_approval' | 'needs_review' | 'queued' | 'sent' | 'failed' | 'skipped' | 'cancelled';

/** Steps still to be acted on; a plan with none left is complete. */
export const PENDING_STATUSES: readonly StepStatus[] = ['scheduled', 'paused', 'awaiting_approval', 'needs_review', 'queued'];
/** Steps a recomputation may move or drop: nothing has left the building for them yet. */
const REPLANNABLE_STATUSES: readonly StepStatus[] = ['scheduled', 'skipped'];

export interface FollowUpPlanView {
  id: string;
  interviewId: string;
  status: PlanStatus;
  statusReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface FollowUpStepView {
  id: string;
  planId: string;
  key: string;
  kind: StepKind;
  channel: Channel;
  status: StepStatus;
  reason: string | null;
  recipient: Recipient;
  dueAt: Date;
  windowEndsAt: Date | null;
  decisions: RuleResult[];
  late: boolean;
  sentAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const PLAN_COLUMNS: ColumnsOf<FollowUpPlanView, FollowUpPlanColumn> = {
  id: ['id'],
  interviewId: ['interview_id'],
  status: ['status'],
  statusReason: ['status_reason'],
  createdAt: ['created_at'],
  updatedAt: ['updated_at'],
};

const STEP_COLUMNS: ColumnsOf<FollowUpStepView, FollowUpStepColumn> = {
  id: ['id'],
  planId: ['plan_id'],
  key: ['key'],
  kind: ['kind'],
  channel: ['channel'],
  status: ['status'],
  reason: ['reason'],
  recipient: ['recipient_interviewer_id', 'recipient_name', 'recipient_email', 'recipient_phone', 'recipient_timezone'],
  dueAt: ['due_at'],
  windowEndsAt: ['window_ends_at'],
  // The rule results are most of a step's bytes: a list that does not show them never reads them.
  decisions: ['decisions'],
  late: ['late'],
  sentAt: ['sent_at'],
  createdAt: ['created_at'],
  updatedAt: ['updated_at'],
};

// ------------------------------------------------------------------------------------------
// Inside other use-cases' transactions: create, recompute and cancel a plan.

/**
 * What has gone out, as the rules count it: sent steps, and steps already released (queued for
 * SMTP or handed to the partner), which will be sent within moments. Counting those keeps two
 * steps that fall due together from both going to one person (T5, T6).
 */
export function sentRecords(steps: readonly FollowUpStepRow[]): SentRecord[] {
  return steps
    .filter((step) => step.status === 'sent' || step.status === 'queued')
    .map((step) => ({
      stepId: step.id,
      kind: step.kind as StepKind,
      interviewerId: step.recipient_interviewer_id,
      channel: step.channel as Channel,
      sentAt: step.sent_at ?? step.due_at,
    }));
}

export function toReplyRecord(row: ReplyRow): ReplyRecord {
  return { fromEmail: row.from_email, receivedAt: row.received_at, raisesConcerns: row.raises_concerns, fromEmployer: row.from_employer };
}

/**
 * What the plan builder needs beyond the interview: what has gone out, the replies (S1) and the
 * recipients' suppressions (S6), read the way the worker reads them, so the plan and the
 * preview show what the worker will do.
 */
async function planInput(
  db: Kysely<Database>,
  tenantId: string,
  steps: FollowUpStepRow[],
  facts: InterviewFacts,
  policy: PolicyDocument,
  planStatus: PlanStatus,
): Promise<PlanInput> {
  const addresses = facts.interviewers.flatMap((interviewer) => [interviewer.email, interviewer.phone]).filter((address): address is string => address !== null);
  const [replies, suppressedAddresses] = await Promise.all([
    findRepliesByInterviewIds(db, tenantId, [facts.id]),
    findSuppressedAddresses(db, tenantId, addresses),
  ]);
  return { interview: facts, policy, sent: sentRecords(steps), replies: replies.map(toReplyRecord), suppressedAddresses, planStatus };
}

function stepColumns(planned: PlannedStep) {
  return {
    key: planned.key,
    kind: planned.kind,
    channel: planned.channel,
    status: planned.status,
    reason: planned.reason,
    recipient_interviewer_id: planned.recipient.interviewerId,
    recipient_name: planned.recipient.name,
    recipient_email: planned.recipient.email,
    recipient_phone: planned.recipient.phone,
    recipient_timezone: planned.recipient.timezone,
    due_at: planned.dueAt,
    window_ends_at: planned.windowEndsAt,
    decisions: JSON.stringify(planned.rules),
  };
}

function stepAudit(actor: string, action: string, stepId: string, planned: PlannedStep, extra: Record<string, unknown> = {}): NewAuditEvent {
  return {
    actor,
    action,
    entityType: 'follow_up_step',
    entityId: stepId,
    data: {
      kind: planned.kind,
      status: planned.status,
      reason: planned.reason,
      channel: planned.channel,
      dueAt: planned.dueAt.toISOString(),
      decisions: planned.rules,
      ...extra,
    },
  };
}

/**
 * Brings the stored steps in line with a freshly built plan, by step key: replannable steps
 * move (or become skipped), new ones are added, ones the plan no longer has are cancelled.
 * Steps already on their way or done are left as they are.
 */
async function syncSteps(
  trx: Kysely<Database>,
  tenantId: string,
  plan: FollowUpPlanRow,
  existing: FollowUpStepRow[],
  planned: PlannedStep[],
  actor: string,
  now: Date,
  replannable: readonly StepStatus[] = REPLANNABLE_STATUSES,
): Promise<{ audit: NewAuditEvent[]; changed: number; events: WebhookEvent[] }> {
  const audit: NewAuditEvent[] = [];
  // A step the plan skips from the start (or on replanning) is told as any skipped step is.
  const events: WebhookEvent[] = [];
  const skipped = (id: string, step: PlannedStep): WebhookEvent => ({
    type: 'followup.skipped',
    data: {
      stepId: id,
      planId: plan.id,
      interviewId: plan.interview_id,
      kind: step.kind,
      channel: step.channel,
      recipient: { name: step.recipient.name, email: step.recipient.email, phone: step.recipient.phone },
      reason: step.reason,
      decisions: step.rules,
    },
  });
  const byKey = new Map(existing.map((step) => [step.key, step]));
  const plannedKeys = new Set(planned.map((step) => step.key));
  const inserts = [];
  let changed = 0;
  // A step that falls due within the workers' alarm horizon is announced, so a worker sets its
  // alarm for it instead of finding it at its next tick.
  let dueSoon = false;
  const isDueSoon = (step: PlannedStep) => step.status === 'scheduled' && step.dueAt.getTime() - now.getTime() <= STEP_ALARM_HORIZON_MS;

  for (const step of planned) {
    const stored = byKey.get(step.key);
    if (!stored) {
      const id = newId();
      inserts.push({ tenant_id: tenantId, id, plan_id: plan.id, ...stepColumns(step), created_at: now, updated_at: now });
      dueSoon ||= isDueSoon(step);
      audit.push(stepAudit(actor, 'step.planned', id, step));
      if (step.status === 'skipped') events.push(skipped(id, step));
      continue;
    }
    if (!replannable.includes(stored.status as StepStatus)) continue;
    const moved = stored.due_at.getTime() !== step.dueAt.getTime() || stored.status !== step.status || stored.channel !== step.channel;
    await updateStep(trx, tenantId, stored.id, stepColumns(step) as StepChanges, now);
    if (moved) {
      dueSoon ||= isDueSoon(step);
      if (step.status === 'skipped' && stored.status !== 'skipped') events.push(skipped(stored.id, step));
      changed += 1;
      audit.push(stepAudit(actor, 'step.replanned', stored.id, step, { from: { status: stored.status, dueAt: stored.due_at.toISOString() } }));
    }
  }
  for (const stored of existing) {
    // Only a waiting step the plan no longer has is cancelled; a skipped one keeps its reason.
    if (plannedKeys.has(stored.key) || stored.status !== 'scheduled') continue;
    await updateStep(trx, tenantId, stored.id, { status: 'cancelled', reason: 'no_longer_planned' }, now);
    changed += 1;
    audit.push({ actor, action: 'step.cancelled', entityType: 'follow_up_step', entityId: stored.id, data: { from: stored.status, reason: 'no_longer_planned' } });
  }
  await insertSteps(trx, inserts);
  if (dueSoon) await signalWorkDue(trx, 'steps');
  return { audit, changed: changed + inserts.length, events };
}

/**
 * A plan whose steps are all settled is complete (and the partner hears plan.completed); one
 * that gains pending steps again is active. Every use-case that changes steps ends with this.
 */
export async function settlePlans(
  trx: Kysely<Database>,
  tenantId: string,
  plans: readonly FollowUpPlanRow[],
  actor: string,
  now: Date,
): Promise<{ audit: NewAuditEvent[]; events: WebhookEvent[] }> {
  // The callers hold these plans' locks, so their statuses are current: a status names the
  // one move it can make, and a statement is spent only on plans that could make it.
  const idsIn = (status: string) => plans.filter((plan) => plan.status === status).map((plan) => plan.id);
  const audit: NewAuditEvent[] = [];
  const events: WebhookEvent[] = [];
  const pending = PENDING_STATUSES;
  const completed = await movePlansByPendingSteps(trx, tenantId, idsIn('active'), { from: 'active', to: 'completed', withPending: false, pending }, now);
  const reopened = await movePlansByPendingSteps(trx, tenantId, idsIn('completed'), { from: 'completed', to: 'active', withPending: true, pending }, now);
  for (const plan of completed) {
    audit.push({ actor, action: 'plan.completed', entityType: 'follow_up_plan', entityId: plan.id, data: { from: 'active', to: 'completed' } });
    // Completed: nothing is left waiting (each step went, or was skipped or cancelled with its reason).
    events.push({ type: 'plan.completed', data: { planId: plan.id, interviewId: plan.interview_id, reason: 'all_steps_settled' } });
  }
  for (const plan of reopened) {
    audit.push({ actor, action: 'plan.reopened', entityType: 'follow_up_plan', entityId: plan.id, data: { from: 'completed', to: 'active' } });
  }
  return { audit, events };
}

/** Creates the plan of a newly scheduled interview, with every step it plans (in the caller's transaction). */
export async function createPlanForInterview(
  trx: Kysely<Database>,
  tenantId: string,
  actor: string,
  facts: InterviewFacts,
  policy: PolicyDocument,
  now: Date,
): Promise<FollowUpPlanRow> {
  const plan = await insertPlan(trx, { tenant_id: tenantId, id: newId(), interview_id: facts.id, created_at: now, updated_at: now });
  const planned = buildPlan(await planInput(trx, tenantId, [], facts, policy, 'active'), now);
  const { audit, events } = await syncSteps(trx, tenantId, plan, [], planned, actor, now);
  audit.unshift({ actor, action: 'plan.created', entityType: 'follow_up_plan', entityId: plan.id, data: { interviewId: facts.id, steps: planned.length } });
  const settled = await settlePlans(trx, tenantId, [plan], actor, now);
  await insertAuditEvents(trx, tenantId, [...audit, ...settled.audit]);
  await enqueueWebhookEvents(trx, tenantId, [...events, ...settled.events], now);
  return plan;
}

/** S4: a rescheduled interview recomputes every step that has not gone out yet. */
export async function replanInterview(
  trx: Kysely<Database>,
  tenantId: string,
  actor: string,
  facts: InterviewFacts,
  now: Date,
  cause: string,
  /** Which stored steps may be timed afresh: waiting and skipped ones (S4), or only waiting ones (a resumed plan). */
  replannable: readonly StepStatus[] = REPLANNABLE_STATUSES,
): Promise<void> {
  const plan = await findPlanByInterviewForUpdate(trx, tenantId, facts.id);
  if (!plan || plan.status === 'cancelled') return;
  const policy = (await loadPolicy(trx, tenantId)).document;
  const existing = await findStepsByPlanIds(trx, tenantId, [plan.id]);
  const planned = buildPlan(await planInput(trx, tenantId, existing, facts, policy, plan.status as PlanStatus), now);
  const { audit, changed, events } = await syncSteps(trx, tenantId, plan, existing, planned, actor, now, replannable);
  audit.unshift({ actor, action: 'plan.recomputed', entityType: 'follow_up_plan', entityId: plan.id, data: { cause, stepsChanged: changed } });
  const settled = await settlePlans(trx, tenantId, [plan], actor, now);
  await insertAuditEvents(trx, tenantId, [...audit, ...settled.audit]);
  await enqueueWebhookEvents(trx, tenantId, [...events, ...settled.events], now);
}

/** Cancels a plan and every step still pending (S4 cancelled interview, S3 withdrawal, by hand), and tells the partner. */
export async function cancelPlanSteps(
  trx: Kysely<Database>,
  tenantId: string,
  actor: string,
  plan: FollowUpPlanRow,
  reason: string,
  now: Date,
): Promise<FollowUpPlanRow> {
  const steps = await findStepsByPlanIds(trx, tenantId, [plan.id]);
  const audit: NewAuditEvent[] = [];
  const cancelledSteps: string[] = [];
  for (const step of steps) {
    if (!PENDING_STATUSES.includes(step.status as StepStatus)) continue;
    await updateStep(trx, tenantId, step.id, { status: 'cancelled', reason }, now);
    cancelledSteps.push(step.id);
    audit.push({ actor, action: 'step.cancelled', entityType: 'follow_up_step', entityId: step.id, data: { from: step.status, reason } });
  }
  // Messages already on their way (being sent this instant) cannot be called back; the rest stop.
  await cancelUnsentMessagesOfSteps(trx, tenantId, cancelledSteps, now);
  const cancelled = await updatePlanStatus(trx, tenantId, plan.id, 'cancelled', reason, now);
  audit.unshift({ actor, action: 'plan.cancelled', entityType: 'follow_up_plan', entityId: plan.id, data: { from: plan.status, reason, stepsCancelled: audit.length } });
  await insertAuditEvents(trx, tenantId, audit);
  await enqueueWebhookEvents(trx, tenantId, [{ type: 'plan.cancelled', data: { planId: plan.id, interviewId: plan.interview_id, reason } }], now);
  return cancelled;
}

// ------------------------------------------------------------------------------------------
// Use-cases and reads.

/** For a tenant whose policy has `autoPlan: false`: plan an interview when the partner says so. */
export async function createFollowUpPlan(ctx: ServiceContext, caller: Caller, interviewId: string): Promise<FollowUpPlanView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'create follow-up plans');
  if (!isId(interviewId)) throw notFound('interview', interviewId);
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const facts = await loadInterviewFacts(trx, caller.tenantId, interviewId);
    if (!facts) throw notFound('interview', interviewId);
    if (facts.status === 'cancelled') throw conflict(`interview ${interviewId} is cancelled`);
    if (await findPlanByInterviewForUpdate(trx, caller.tenantId, interviewId)) throw conflict(`interview ${interviewId} already has a follow-up plan`);
    const policy = (await loadPolicy(trx, caller.tenantId)).document;
    const plan = await createPlanForInterview(trx, caller.tenantId, caller.sub, facts, policy, now);
    return toPlanView((await findPlansByIds(trx, caller.tenantId, [plan.id]))[0]!);
  });
}

export async function getPlan(ctx: ServiceContext, caller: Caller, id: string): Promise<FollowUpPlanView> {
  requireScope(caller, 'followups:read');
  if (isId(id)) await requireOwnRow(ctx.db, caller, 'plan', id, 'follow-up plan');
  const [row] = isId(id) ? await findPlansByIds(ctx.db, caller.tenantId, [id]) : [];
  if (!row) throw notFound('follow-up plan', id);
  return toPlanView(row);
}

/** Loader batch: the plan of each interview (null when it has none). */
export async function getPlansByInterviewIds(
  ctx: ServiceContext,
  caller: Caller,
  interviewIds: readonly string[],
  fields?: ViewFields,
): Promise<Array<FollowUpPlanView | null>> {
  const rows = await findPlansByInterviewIds(ctx.db, caller.tenantId, interviewIds.filter(isId), columnsFor(PLAN_COLUMNS, fields, ['interview_id']));
  const byInterview = new Map(rows.map((row) => [row.interview_id, toPlanView(row)]));
  return interviewIds.map((id) => byInterview.get(id) ?? null);
}

/** Loader batch: plans by id. */
export async function getPlansByIds(ctx: ServiceContext, caller: Caller, ids: readonly string[], fields?: ViewFields): Promise<Array<FollowUpPlanView | null>> {
  const rows = await findPlansByIds(ctx.db, caller.tenantId, ids.filter(isId), columnsFor(PLAN_COLUMNS, fields, ['id']));
  const byId = new Map(rows.map((row) => [row.id, toPlanView(row)]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Loader batch: the steps of each plan, in due order. */
export async function getStepsByPlanIds(ctx: ServiceContext, caller: Caller, planIds: readonly string[], fields?: ViewFields): Promise<FollowUpStepView[][]> {
  const rows = await findStepsByPlanIds(ctx.db, caller.tenantId, planIds.filter(isId), columnsFor(STEP_COLUMNS, fields, ['plan_id']));
  const grouped = new Map<string, FollowUpStepView[]>();
  for (const row of rows) {
    const list = grouped.get(row.plan_id);
    if (list) list.push(toStepView(row));
    else grouped.set(row.plan_id, [toStepView(row)]);
  }
  return planIds.map((id) => grouped.get(id) ?? []);
}

/** Steps by id, in the order asked (null where missing); the loaders' and replies' batch. */
export async function getStepsByIds(ctx: ServiceContext, caller: Caller, ids: readonly string[], fields?: ViewFields): Promise<Array<FollowUpStepView | null>> {
  const rows = await findStepsByIds(ctx.db, caller.tenantId, ids.filter(isId), columnsFor(STEP_COLUMNS, fields, ['id']));
  const byId = new Map(rows.map((row) => [row.id, toStepView(row)]));
  return ids.map((id) => byId.get(id) ?? null);
}

export interface StepFilterInput {
  status?: readonly string[] | null;
  kind?: readonly string[] | null;
  dueBefore?: Date | null;
  planId?: string | null;
}

export async function listStepsPage(
  ctx: ServiceContext,
  caller: Caller,
  request: PageRequest,
  filter: StepFilterInput = {},
  fields?: ViewFields,
): Promise<Page<FollowUpStepView>> {
  requireScope(caller, 'followups:read');
  const window = timePageWindow(request);
  if (filter.planId != null && !isId(filter.planId)) return toPage([], window.size, toStepView);
  const rows = await listSteps(ctx.db, caller.tenantId, { limit: window.limit, after: window.after }, {
    statuses: filter.status?.flatMap((status) => (status === 'SCHEDULED' ? ['scheduled', 'paused'] : [status.toLowerCase()])),
    kinds: filter.kind?.map((kind) => kind.toLowerCase()),
    dueBefore: filter.dueBefore ?? undefined,
    planId: filter.planId ?? undefined,
    candidateId: caller.candidateId,
  }, columnsFor(STEP_COLUMNS, fields, ['id', 'due_at']));
  return toPage(rows, window.size, toStepView, (row) => encodeTimeCursor({ at: row.due_at, id: row.id }));
}

/**
 * The schedule the engine will follow from now if nothing else happens, computed the same way
 * as the stored plan and written nowhere. An interview without a plan yet previews the plan it
 * would get.
 */
export async function previewFollowUpPlan(ctx: ServiceContext, caller: Caller, interviewId: string): Promise<PlannedStep[]> {
  requireScope(caller, 'followups:read');
  if (isId(interviewId)) await requireOwnRow(ctx.db, caller, 'interview', interviewId, 'interview');
  if (!isId(interviewId)) throw notFound('interview', interviewId);
  const facts = await loadInterviewFacts(ctx.db, caller.tenantId, interviewId);
  if (!facts) throw notFound('interview', interviewId);
  const policy = (await loadPolicy(ctx.db, caller.tenantId)).document;
  const [plan] = await findPlansByInterviewIds(ctx.db, caller.tenantId, [interviewId]);
  const steps = plan ? await findStepsByPlanIds(ctx.db, caller.tenantId, [plan.id]) : [];
  return buildPlan(await planInput(ctx.db, caller.tenantId, steps, facts, policy, (plan?.status ?? 'active') as PlanStatus), ctx.clock());
}

export function toPlanView(row: FollowUpPlanRow): FollowUpPlanView {
  return {
    id: row.id,
    interviewId: row.interview_id,
    status: row.status as PlanStatus,
    statusReason: row.status_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function recipientOfStep(
  row: Pick<FollowUpStepRow, 'recipient_interviewer_id' | 'recipient_name' | 'recipient_email' | 'recipient_phone' | 'recipient_timezone'>,
): Recipient {
  return {
    interviewerId: row.recipient_interviewer_id,
    name: row.recipient_name,
    email: row.recipient_email,
    phone: row.recipient_phone,
    timezone: row.recipient_timezone,
  };
}

export function toStepView(row: FollowUpStepRow): FollowUpStepView {
  return {
    id: row.id,
    planId: row.plan_id,
    key: row.key,
    kind: row.kind as StepKind,
    channel: row.channel as Channel,
    status: row.status as StepStatus,
    reason: row.reason,
    recipient: recipientOfStep(row),
    dueAt: row.due_at,
    windowEndsAt: row.window_ends_at,
    decisions: row.decisions as RuleResult[],
    late: row.late,
    sentAt: row.sent_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
