import { insertAuditEvents } from '../db/audit-events.js';
import type { Kysely } from 'kysely';
import { findStepForUpdate, lockPlans, updateStep } from '../db/follow-up-plans.js';
import { isId } from '../db/ids.js';
import { findMessageForUpdate, findMessagesByIds, findMessagesByStepIds, listMessages, updateMessage } from '../db/messages.js';
import type { Database, MessageRow } from '../db/schema.js';
import { hasLintErrors, isLetterChannel } from '../domain/lint.js';
import type { Channel, LintFinding, StepKind } from '../domain/types.js';
import { multiLineProblem, singleLineProblem } from '../domain/validation.js';
import { requireOwnRow } from './candidate-scope.js';
import { type Caller, requireScope, type ServiceContext } from './context.js';
import { badInput, conflict, notFound, ServiceError } from './errors.js';
import { settlePlans } from './follow-up-plans.js';
import { attachCannedLetters, forgetLetter, letterIdentity, recordLetter } from './canned-letters.js';
import { lintComposed } from './message-composer.js';
import { type Page, type PageRequest, pageWindow, toPage } from './pagination.js';
import { loadPlanContext } from './plan-context.js';
import { evaluateStepNow } from './step-evaluation.js';
import { enqueueWebhookEvents } from './webhook-events.js';
import { signalWorkDue } from '../db/work-signals.js';

export type MessageStatus = 'held' | 'queued' | 'sending' | 'retry' | 'sent' | 'dead' | 'awaiting_delivery' | 'discarded' | 'cancelled';

export interface MessageView {
  id: string;
  stepId: string;
  planId: string;
  kind: StepKind;
  channel: Channel;
  status: MessageStatus;
  to: { name: string; address: string | null };
  from: { name: string; address: string };
  replyTo: { name: string; address: string };
  subject: string;
  body: string;
  messageIdHeader: string;
  inReplyTo: string | null;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
  sentAt: Date | null;
  lintFindings: LintFinding[];
  createdAt: Date;
  updatedAt: Date;
}

/** Longest subject a candidate may write when editing (mail clients cut far sooner). */
const MAX_SUBJECT = 300;
const MAX_BODY = 10_000;

/** Takes the plan's lock, then the message's, in the order every plan-changing use-case follows. */
async function lockMessageAndPlan(trx: Kysely<Database>, tenantId: string, id: string): Promise<MessageRow> {
  const [seen] = await findMessagesByIds(trx, tenantId, [id]);
  if (!seen) throw notFound('message', id);
  await lockPlans(trx, tenantId, [seen.plan_id], { skipLocked: false });
  return (await findMessageForUpdate(trx, tenantId, id))!;
}

/**
 * The candidate (or coach) approves a held message, optionally edited. An edit is linted again
 * and refused while it has errors. The step is then evaluated afresh: it goes now, waits for
 * business hours or spacing, or — when it can no longer go — is skipped and the approval refused.
 */
export async function approveMessage(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  edit: { subject?: string | null; body?: string | null },
): Promise<MessageView> {
  requireScope(caller, 'followups:write');
  if (isId(id)) await requireOwnRow(ctx.db, caller, 'message', id, 'message');
  if (!isId(id)) throw notFound('message', id);
  if (edit.subject != null) {
    const problem = singleLineProblem(edit.subject, MAX_SUBJECT);
    if (problem) throw badInput('subject', problem);
  }
  if (edit.body != null) {
    const problem = multiLineProblem(edit.body, MAX_BODY) ?? (edit.body.trim() === '' ? 'must not be empty' : null);
    if (problem) throw badInput('body', problem);
  }
  const now = ctx.clock();
  // A step that can no longer go (its window closed, say) is recorded as skipped, committed,
  // and only then is the approval refused: the refusal must not undo the record.
  const outcome = await ctx.db.transaction().execute(async (trx): Promise<{ view: MessageView; refusal: ServiceError | null }> => {
      const message = await lockMessageAndPlan(trx, caller.tenantId, id);
      if (message.status !== 'held') throw conflict(`message ${id} is ${message.status}, not waiting for approval`);
      const step = (await findStepForUpdate(trx, caller.tenantId, message.step_id))!;
      const context = (await loadPlanContext(trx, caller.tenantId, message.plan_id))!;
      if (context.plan.status === 'paused') throw conflict('the plan is paused; resume it before approving');
      if (context.plan.status === 'cancelled') throw conflict('the plan is cancelled');

      const subject = edit.subject?.trim() || message.subject;
      const body = edit.body ?? message.body;
      const edited = subject !== message.subject || body !== message.body;
      // An edit is compared with other candidates' letters too (L12), and replaces what was recorded.
      if (edited) await attachCannedLetters(trx, caller.tenantId, [context], now);
      const findings = edited ? lintComposed(context, step, message.channel as Channel, { subject, body }, ctx.spell, id) : message.lint_findings;
      if (hasLintErrors(findings as LintFinding[])) {
        const errors = (findings as LintFinding[]).filter((finding) => finding.level === 'error');
        throw new ServiceError(
          'BAD_USER_INPUT',
          `the message still breaks ${errors.map((finding) => `${finding.rule} (${finding.detail})`).join('; ')}`,
          edited ? 'body' : 'id',
        );
      }
      const approvedMessage = await updateMessage(trx, caller.tenantId, id, { subject, body, lint_findings: JSON.stringify(findings) }, now);
      const self = letterIdentity(context, step.recipient_email);
      if (edited && context.canned && self && isLetterChannel(message.channel as Channel) && step.kind !== 'call_task') {
        await forgetLetter(trx, caller.tenantId, id);
        recordLetter(context.canned, caller.tenantId, id, self, body, now);
      }
      const approvedStep = await updateStep(trx, caller.tenantId, step.id, { approved: true, status: 'scheduled' }, now);
      context.messages = context.messages.map((other) => (other.id === id ? approvedMessage : other));
      context.steps = context.steps.map((other) => (other.id === step.id ? approvedStep : other));
      const decision = await evaluateStepNow(trx, context, approvedStep, ctx.spell, now, caller.sub, [
        { actor: caller.sub, action: 'message.approved', entityType: 'message', entityId: id, data: { edited, lintFindings: findings } },
      ]);
      // Released now: the workers send it at once rather than at their next tick.
      if (decision.type === 'send') await signalWorkDue(trx, 'mail');
      const view = toMessageView((await findMessagesByIds(trx, caller.tenantId, [id]))[0]!);
      if (decision.type === 'skip' || decision.type === 'cancel_plan') {
        const why = decision.reason === 'window_missed' ? 'its window has passed' : decision.reason.replaceAll('_', ' ');
        return { view, refusal: conflict(`the message can no longer be sent: ${why}`) };
      }
      return { view, refusal: null };
  });
  if (outcome.refusal) throw outcome.refusal;
  return outcome.view;
}

/** The candidate decides a held message should not go: the step ends, cancelled. */
export async function discardMessage(ctx: ServiceContext, caller: Caller, id: string): Promise<MessageView> {
  requireScope(caller, 'followups:write');
  if (isId(id)) await requireOwnRow(ctx.db, caller, 'message', id, 'message');
  if (!isId(id)) throw notFound('message', id);
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const message = await lockMessageAndPlan(trx, caller.tenantId, id);
    if (message.status !== 'held') throw conflict(`message ${id} is ${message.status}; only a held message can be discarded`);
    const discarded = await updateMessage(trx, caller.tenantId, id, { status: 'discarded' }, now);
    await forgetLetter(trx, caller.tenantId, id);
    await updateStep(trx, caller.tenantId, message.step_id, { status: 'cancelled', reason: 'discarded' }, now);
    const context = (await loadPlanContext(trx, caller.tenantId, message.plan_id))!;
    const settled = await settlePlans(trx, caller.tenantId, [context.plan], caller.sub, now);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'message.discarded', entityType: 'message', entityId: id, data: { stepId: message.step_id } },
      { actor: caller.sub, action: 'step.cancelled', entityType: 'follow_up_step', entityId: message.step_id, data: { reason: 'discarded' } },
      ...settled.audit,
    ]);
    await enqueueWebhookEvents(trx, caller.tenantId, settled.events, now);
    return toMessageView(discarded);
  });
}

export async function getMessage(ctx: ServiceContext, caller: Caller, id: string): Promise<MessageView> {
  requireScope(caller, 'followups:read');
  if (isId(id)) await requireOwnRow(ctx.db, caller, 'message', id, 'message');
  const [row] = isId(id) ? await findMessagesByIds(ctx.db, caller.tenantId, [id]) : [];
  if (!row) throw notFound('message', id);
  return toMessageView(row);
}

/** Loader batch: the message of each step (null before one is written). */
export async function getMessagesByStepIds(ctx: ServiceContext, caller: Caller, stepIds: readonly string[]): Promise<Array<MessageView | null>> {
  const rows = await findMessagesByStepIds(ctx.db, caller.tenantId, stepIds.filter(isId));
  const byStep = new Map(rows.map((row) => [row.step_id, toMessageView(row)]));
  return stepIds.map((id) => byStep.get(id) ?? null);
}

export async function listMessagesPage(
  ctx: ServiceContext,
  caller: Caller,
  request: PageRequest,
  filter: { status?: readonly string[] | null; planId?: string | null; stepId?: string | null } = {},
): Promise<Page<MessageView>> {
  requireScope(caller, 'followups:read');
  const window = pageWindow(request);
  if ((filter.planId != null && !isId(filter.planId)) || (filter.stepId != null && !isId(filter.stepId))) return toPage([], window.size, toMessageView);
  const rows = await listMessages(ctx.db, caller.tenantId, window, {
    statuses: filter.status?.map((status) => status.toLowerCase()),
    planId: filter.planId ?? undefined,
    stepId: filter.stepId ?? undefined,
    candidateId: caller.candidateId,
  });
  return toPage(rows, window.size, toMessageView);
}

export function toMessageView(row: MessageRow): MessageView {
  return {
    id: row.id,
    stepId: row.step_id,
    planId: row.plan_id,
    kind: row.kind as StepKind,
    channel: row.channel as Channel,
    status: row.status as MessageStatus,
    to: { name: row.to_name, address: row.to_address },
    from: { name: row.from_name, address: row.from_address },
    replyTo: { name: row.reply_to_name, address: row.reply_to_address },
    subject: row.subject,
    body: row.body,
    messageIdHeader: row.message_id_header,
    inReplyTo: row.in_reply_to,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    sentAt: row.sent_at,
    lintFindings: row.lint_findings as LintFinding[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
