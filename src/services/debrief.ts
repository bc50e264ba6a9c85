import type { Kysely } from 'kysely';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import { findCandidatesByIds } from '../db/candidates.js';
import {
  clearPrimaryContact,
  deleteInterviewer,
  findInterviewerForUpdate,
  type InterviewDebriefChanges,
  type InterviewerChanges,
  updateInterviewDebrief,
  updateInterviewerRow,
} from '../db/debrief.js';
import { findPlanByInterviewForUpdate, findStepsByPlanIds, updateStep } from '../db/follow-up-plans.js';
import { isId, newId } from '../db/ids.js';
import { findInterviewersByInterviewIds, findInterviewForUpdate, insertInterviewers } from '../db/interviews.js';
import { cancelUnsentMessagesOfSteps } from '../db/messages.js';
import type { CandidateRow, Database, InterviewRow } from '../db/schema.js';
import { type Caller, requireScope, type ServiceContext } from './context.js';
import {
  addInterviewerSchema,
  type UpdateInterviewerInput,
  updateInterviewerSchema,
  type UpdateInterviewInput,
  updateInterviewSchema,
} from './debrief-inputs.js';
import { badInput, conflict, notFound } from './errors.js';
import { PENDING_STATUSES, replanInterview, type StepStatus } from './follow-up-plans.js';
import { loadInterviewFacts } from './interview-facts.js';
import { type InterviewerView, type InterviewView, toInterviewerView, toInterviewView } from './interviews.js';
import { parseInput } from './inputs.js';
import { refuseCandidateAsInterviewer } from './wrong-person.js';

// The debrief (API.md "After the interview"): what the candidate learns in the interview and
// tells us afterwards. Each change re-times the plan's unsent steps as a reschedule does (S4),
// in the same transaction, with an audit event that names the fields changed, never their values.

/** The interview's debrief fields as the API names them, and the column each is stored in. */
const INTERVIEW_FIELD_COLUMNS = {
  positionTitle: 'position_title',
  decisionExpectedBy: 'decision_expected_by',
  callBackExpectedBy: 'call_back_expected_by',
  topics: 'topics',
  highlights: 'highlights',
  leftOut: 'left_out',
  resourceUrl: 'resource_url',
  channel: 'channel',
} as const satisfies Record<keyof UpdateInterviewInput, string>;

const INTERVIEWER_FIELD_COLUMNS = {
  name: 'name',
  email: 'email',
  phone: 'phone',
  title: 'title',
  timezone: 'timezone',
  preferredChannel: 'preferred_channel',
  isPrimaryContact: 'is_primary_contact',
  topics: 'topics',
  honorific: 'honorific',
} as const satisfies Record<keyof UpdateInterviewerInput, string>;

/** Kinds a plan has once, addressed to whoever is the primary contact (see step-key.ts). */
const ONCE_PER_PLAN_KINDS: ReadonlySet<string> = new Set(['check_in', 'final_check_in', 'call_task', 'keep_in_touch']);

async function candidateOf(trx: Kysely<Database>, tenantId: string, interview: InterviewRow): Promise<CandidateRow> {
  const [candidate] = await findCandidatesByIds(trx, tenantId, [interview.candidate_id]);
  return candidate!;
}

/**
 * The interview, locked, when it is still open. A candidate token reaches only its own
 * candidate's interviews: another's answers NOT_FOUND, as a missing one would, naming what was
 * asked for (the interview, or the interviewer whose interview it is).
 */
async function lockOpenInterview(
  trx: Kysely<Database>,
  caller: Caller,
  id: string,
  asked: { what: string; id: string } = { what: 'interview', id },
): Promise<InterviewRow> {
  const interview = isId(id) ? await findInterviewForUpdate(trx, caller.tenantId, id) : undefined;
  if (!interview || (caller.candidateId !== undefined && interview.candidate_id !== caller.candidateId)) throw notFound(asked.what, asked.id);
  if (interview.status === 'cancelled') throw conflict(`interview ${id} is cancelled`);
  return interview;
}

async function replan(trx: Kysely<Database>, caller: Caller, interviewId: string, now: Date, cause: string): Promise<void> {
  const facts = await loadInterviewFacts(trx, caller.tenantId, interviewId);
  await replanInterview(trx, caller.tenantId, caller.sub, facts!, now, cause);
}

export async function updateInterview(ctx: ServiceContext, caller: Caller, id: string, rawInput: unknown): Promise<InterviewView> {
  requireScope(caller, 'followups:write');
  const input = parseInput(updateInterviewSchema, rawInput ?? {}, 'input');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await lockOpenInterview(trx, caller, id);
    const changes: InterviewDebriefChanges = {};
    const changed: string[] = [];
    for (const [field, column] of Object.entries(INTERVIEW_FIELD_COLUMNS) as Array<[keyof UpdateInterviewInput, string]>) {
      const value = input[field];
      if (value === undefined) continue;
      if (value === null && field === 'positionTitle') throw badInput('input.positionTitle', 'cannot be cleared');
      const stored = field === 'topics' ? JSON.stringify(value ?? []) : value;
      Object.assign(changes, { [column]: stored });
      changed.push(field);
    }
    const decision = input.decisionExpectedBy;
    if (decision && decision.getTime() < current.ends_at.getTime()) throw badInput('input.decisionExpectedBy', 'must not be before the interview ends');
    if (changed.length === 0) return toInterviewView(current);
    const row = await updateInterviewDebrief(trx, caller.tenantId, id, changes, now);
    await replan(trx, caller, id, now, 'interview_updated');
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'interview.updated', entityType: 'interview', entityId: id, data: { changed } },
    ]);
    return toInterviewView(row);
  });
}

export async function addInterviewer(ctx: ServiceContext, caller: Caller, interviewId: string, rawInput: unknown): Promise<InterviewerView> {
  requireScope(caller, 'followups:write');
  const input = parseInput(addInterviewerSchema, rawInput, 'input');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const interview = await lockOpenInterview(trx, caller, interviewId);
    refuseCandidateAsInterviewer(await candidateOf(trx, caller.tenantId, interview), input, 'input');
    const panel = await findInterviewersByInterviewIds(trx, caller.tenantId, [interviewId]);
    const address = input.email?.toLowerCase();
    if (address && panel.some((other) => other.email?.toLowerCase() === address)) throw badInput('input.email', 'is already an interviewer of this interview');
    const id = newId();
    const [row] = await insertInterviewers(trx, [
      {
        tenant_id: caller.tenantId,
        id,
        interview_id: interviewId,
        position: Math.max(-1, ...panel.map((other) => other.position)) + 1,
        name: input.name,
        email: input.email ?? null,
        phone: input.phone ?? null,
        title: input.title ?? null,
        timezone: input.timezone ?? null,
        preferred_channel: input.preferredChannel ?? null,
        is_primary_contact: input.isPrimaryContact ?? false,
        topics: JSON.stringify(input.topics ?? []),
        honorific: input.honorific ?? null,
      },
    ]);
    if (input.isPrimaryContact) await clearPrimaryContact(trx, caller.tenantId, interviewId, id);
    await replan(trx, caller, interviewId, now, 'interviewer_added');
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'interviewer.added', entityType: 'interview', entityId: interviewId, data: { interviewerId: id } },
    ]);
    return toInterviewerView(row!);
  });
}

export async function updateInterviewer(ctx: ServiceContext, caller: Caller, id: string, rawInput: unknown): Promise<InterviewerView> {
  requireScope(caller, 'followups:write');
  const input = parseInput(updateInterviewerSchema, rawInput ?? {}, 'input');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const current = isId(id) ? await findInterviewerForUpdate(trx, caller.tenantId, id) : undefined;
    if (!current) throw notFound('interviewer', id);
    const interview = await lockOpenInterview(trx, caller, current.interview_id, { what: 'interviewer', id });
    const changes: InterviewerChanges = {};
    const changed: string[] = [];
    for (const [field, column] of Object.entries(INTERVIEWER_FIELD_COLUMNS) as Array<[keyof UpdateInterviewerInput, string]>) {
      const value = input[field];
      if (value === undefined) continue;
      if (value === null && field === 'name') throw badInput('input.name', 'cannot be cleared');
      const stored = field === 'topics' ? JSON.stringify(value ?? []) : field === 'isPrimaryContact' ? value === true : value;
      Object.assign(changes, { [column]: stored });
      changed.push(field);
    }
    if (changed.length === 0) return toInterviewerView(current);
    const email = input.email === undefined ? current.email : input.email;
    const phone = input.phone === undefined ? current.phone : input.phone;
    if (!email && !phone) throw badInput('input', 'would leave the interviewer without an email or a phone number');
    refuseCandidateAsInterviewer(await candidateOf(trx, caller.tenantId, interview), { email, phone }, 'input');
    if (input.email) {
      const panel = await findInterviewersByInterviewIds(trx, caller.tenantId, [interview.id]);
      if (panel.some((other) => other.id !== id && other.email?.toLowerCase() === input.email!.toLowerCase())) {
        throw badInput('input.email', 'is already an interviewer of this interview');
      }
    }
    const row = await updateInterviewerRow(trx, caller.tenantId, id, changes);
    if (input.isPrimaryContact) await clearPrimaryContact(trx, caller.tenantId, interview.id, id);
    await replan(trx, caller, interview.id, now, 'interviewer_updated');
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'interviewer.updated', entityType: 'interview', entityId: interview.id, data: { interviewerId: id, changed } },
    ]);
    return toInterviewerView(row);
  });
}

/**
 * Takes a person off the panel: their steps still waiting are cancelled (with the rule result
 * saying why, and their unsent messages with them), and the rest of the plan is timed afresh
 * (the check-ins move to the new primary contact when it was them). Sent steps keep their rows.
 */
export async function removeInterviewer(ctx: ServiceContext, caller: Caller, id: string): Promise<InterviewerView> {
  requireScope(caller, 'followups:write');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const current = isId(id) ? await findInterviewerForUpdate(trx, caller.tenantId, id) : undefined;
    if (!current) throw notFound('interviewer', id);
    const interview = await lockOpenInterview(trx, caller, current.interview_id, { what: 'interviewer', id });
    const panel = await findInterviewersByInterviewIds(trx, caller.tenantId, [interview.id]);
    if (panel.length <= 1) throw conflict(`interviewer ${id} is the interview's only one; cancel the interview instead`);

    const audit: NewAuditEvent[] = [];
    const cancelled: string[] = [];
    const plan = await findPlanByInterviewForUpdate(trx, caller.tenantId, interview.id);
    if (plan) {
      const steps = await findStepsByPlanIds(trx, caller.tenantId, [plan.id]);
      for (const step of steps) {
        if (step.recipient_interviewer_id !== id || !PENDING_STATUSES.includes(step.status as StepStatus)) continue;
        // A check-in still waiting is the plan's, not this person's: the recomputation below
        // readdresses it to the next primary contact.
        if (ONCE_PER_PLAN_KINDS.has(step.kind) && step.status === 'scheduled') continue;
        const decisions = [...step.decisions, { rule: 'S4', outcome: 'block', detail: 'the interviewer was taken off the panel' }];
        await updateStep(trx, caller.tenantId, step.id, { status: 'cancelled', reason: 'interviewer_removed', decisions: JSON.stringify(decisions) }, now);
        cancelled.push(step.id);
        audit.push({ actor: caller.sub, action: 'step.cancelled', entityType: 'follow_up_step', entityId: step.id, data: { from: step.status, reason: 'interviewer_removed' } });
      }
      await cancelUnsentMessagesOfSteps(trx, caller.tenantId, cancelled, now);
    }
    await deleteInterviewer(trx, caller.tenantId, id);
    // The recomputation also settles the plan (complete when nothing is left to send).
    await replan(trx, caller, interview.id, now, 'interviewer_removed');
    audit.unshift({ actor: caller.sub, action: 'interviewer.removed', entityType: 'interview', entityId: interview.id, data: { interviewerId: id, stepsCancelled: cancelled } });
    await insertAuditEvents(trx, caller.tenantId, audit);
    return toInterviewerView(current);
  });
}
