import type { Kysely } from 'kysely';
import { insertAuditEvents } from '../db/audit-events.js';
import { findCandidatesByIds } from '../db/candidates.js';
import { findCompaniesByIds, upsertCompanyByName } from '../db/companies.js';
import { isId, newId } from '../db/ids.js';
import {
  findInterviewersByInterviewIds,
  findInterviewForUpdate,
  findInterviewsByIds,
  insertInterview,
  insertInterviewers,
  listInterviews,
  updateInterviewRow,
} from '../db/interviews.js';
import type { CompanyRow, Database, InterviewColumn, InterviewerColumn, InterviewerRow, InterviewRow } from '../db/schema.js';
import type { Channel, FollowUpStyle, Outcome } from '../domain/types.js';
import { findPlanByInterviewForUpdate } from '../db/follow-up-plans.js';
import { candidateFilterFor } from './candidate-scope.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { cancelPlanSteps, createPlanForInterview, replanInterview } from './follow-up-plans.js';
import { interviewFactsFromRows, loadInterviewFacts } from './interview-facts.js';
import { loadPolicy } from './policies.js';
import { refuseCandidateAsInterviewer } from './wrong-person.js';
import { conflict, notFound } from './errors.js';
import { parseInput, rescheduleInterviewSchema, type ScheduleInterviewInput, scheduleInterviewSchema } from './inputs.js';
import { type Page, type PageRequest, pageWindow, toPage } from './pagination.js';
import { type ColumnsOf, columnsFor, type ViewFields } from './projection.js';

export interface CompanyView {
  id: string;
  name: string;
  preferredChannel: Channel | null;
  followUpStyle: FollowUpStyle;
  timezone: string | null;
}

export interface InterviewView {
  id: string;
  candidateId: string;
  companyId: string;
  positionTitle: string;
  startsAt: Date;
  endsAt: Date;
  timezone: string;
  channel: Channel | null;
  decisionExpectedBy: Date | null;
  callBackExpectedBy: Date | null;
  topics: string[];
  highlights: string | null;
  leftOut: string | null;
  resourceUrl: string | null;
  status: 'scheduled' | 'cancelled';
  outcome: Outcome | null;
  outcomeAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface InterviewerView {
  id: string;
  interviewId: string;
  name: string;
  email: string | null;
  phone: string | null;
  title: string | null;
  timezone: string | null;
  preferredChannel: Channel | null;
  isPrimaryContact: boolean;
  topics: string[];
  honorific: string | null;
}

const INTERVIEW_COLUMNS: ColumnsOf<InterviewView, InterviewColumn> = {
  id: ['id'],
  candidateId: ['candidate_id'],
  companyId: ['company_id'],
  positionTitle: ['position_title'],
  startsAt: ['starts_at'],
  endsAt: ['ends_at'],
  timezone: ['timezone'],
  channel: ['channel'],
  decisionExpectedBy: ['decision_expected_by'],
  callBackExpectedBy: ['call_back_expected_by'],
  topics: ['topics'],
  highlights: ['highlights'],
  leftOut: ['left_out'],
  resourceUrl: ['resource_url'],
  status: ['status'],
  outcome: ['outcome'],
  outcomeAt: ['outcome_at'],
  createdAt: ['created_at'],
  updatedAt: ['updated_at'],
};

const INTERVIEWER_COLUMNS: ColumnsOf<InterviewerView, InterviewerColumn> = {
  id: ['id'],
  interviewId: ['interview_id'],
  name: ['name'],
  email: ['email'],
  phone: ['phone'],
  title: ['title'],
  timezone: ['timezone'],
  preferredChannel: ['preferred_channel'],
  isPrimaryContact: ['is_primary_contact'],
  topics: ['topics'],
  honorific: ['honorific'],
};

/** What scheduling returns: the interview with what it was stored with, so no re-read is needed. */
export interface ScheduledInterview {
  followUpPlanId: string | null;
  interview: InterviewView;
  company: CompanyView;
  interviewers: InterviewerView[];
}

export async function scheduleInterview(ctx: ServiceContext, caller: Caller, rawInput: unknown): Promise<ScheduledInterview> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'schedule interviews');
  const input = parseInput(scheduleInterviewSchema, rawInput, 'input');
  return ctx.db.transaction().execute((trx) => storeInterview(trx, caller, input, ctx.clock()));
}

async function storeInterview(trx: Kysely<Database>, caller: Caller, input: ScheduleInterviewInput, now: Date): Promise<ScheduledInterview> {
  const [candidate] = isId(input.candidateId) ? await findCandidatesByIds(trx, caller.tenantId, [input.candidateId]) : [];
  if (!candidate) throw notFound('candidate', input.candidateId);
  input.interviewers.forEach((interviewer, index) => refuseCandidateAsInterviewer(candidate, interviewer, `input.interviewers.${index}`));
  const company = await upsertCompanyByName(trx, caller.tenantId, {
    name: input.companyName,
    preferredChannel: input.companyPreferredChannel,
    followUpStyle: input.companyFollowUpStyle ?? undefined,
    timezone: input.companyTimezone,
  });
  const interview = await insertInterview(trx, {
    tenant_id: caller.tenantId,
    id: newId(),
    candidate_id: candidate.id,
    company_id: company.id,
    position_title: input.positionTitle,
    starts_at: input.startsAt,
    ends_at: input.endsAt,
    timezone: input.timezone,
    channel: input.channel ?? null,
    decision_expected_by: input.decisionExpectedBy ?? null,
    call_back_expected_by: input.callBackExpectedBy ?? null,
    topics: JSON.stringify(input.topics ?? []),
    created_at: now,
    updated_at: now,
  });
  const interviewers = await insertInterviewers(
    trx,
    input.interviewers.map((interviewer, position) => ({
      tenant_id: caller.tenantId,
      id: newId(),
      interview_id: interview.id,
      position,
      name: interviewer.name,
      email: interviewer.email ?? null,
      phone: interviewer.phone ?? null,
      title: interviewer.title ?? null,
      timezone: interviewer.timezone ?? null,
      preferred_channel: interviewer.preferredChannel ?? null,
      is_primary_contact: interviewer.isPrimaryContact ?? false,
      topics: JSON.stringify(interviewer.topics ?? []),
      honorific: interviewer.honorific ?? null,
    })),
  );
  // The plan is created with the interview (unless the tenant's policy turns that off), so a
  // partner sees every planned step, and why, the moment the interview exists.
  const policy = (await loadPolicy(trx, caller.tenantId)).document;
  const plan = policy.autoPlan
    ? await createPlanForInterview(trx, caller.tenantId, caller.sub, interviewFactsFromRows(interview, candidate, company, interviewers), policy, now)
    : null;
  await insertAuditEvents(trx, caller.tenantId, [
    {
      actor: caller.sub,
      action: 'interview.scheduled',
      entityType: 'interview',
      entityId: interview.id,
      data: {
        candidateId: candidate.id,
        companyId: company.id,
        startsAt: interview.starts_at.toISOString(),
        endsAt: interview.ends_at.toISOString(),
        interviewerIds: interviewers.map((interviewer) => interviewer.id),
        followUpPlanId: plan?.id ?? null,
      },
    },
  ]);
  return {
    followUpPlanId: plan?.id ?? null,
    interview: toInterviewView(interview),
    company: toCompanyView(company),
    interviewers: interviewers.map(toInterviewerView),
  };
}

export async function rescheduleInterview(ctx: ServiceContext, caller: Caller, rawInput: unknown): Promise<InterviewView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'reschedule interviews');
  const input = parseInput(rescheduleInterviewSchema, rawInput);
  if (!isId(input.id)) throw notFound('interview', input.id);
  return ctx.db.transaction().execute(async (trx) => {
    const current = await findInterviewForUpdate(trx, caller.tenantId, input.id);
    if (!current) throw notFound('interview', input.id);
    if (current.status === 'cancelled') throw conflict(`interview ${input.id} is cancelled and cannot be rescheduled`);
    const row = await updateInterviewRow(trx, caller.tenantId, input.id, { starts_at: input.startsAt, ends_at: input.endsAt });
    const facts = await loadInterviewFacts(trx, caller.tenantId, input.id);
    await replanInterview(trx, caller.tenantId, caller.sub, facts!, ctx.clock(), 'interview_rescheduled');
    await insertAuditEvents(trx, caller.tenantId, [
      {
        actor: caller.sub,
        action: 'interview.rescheduled',
        entityType: 'interview',
        entityId: input.id,
        data: {
          from: { startsAt: current.starts_at.toISOString(), endsAt: current.ends_at.toISOString() },
          to: { startsAt: row.starts_at.toISOString(), endsAt: row.ends_at.toISOString() },
        },
      },
    ]);
    return toInterviewView(row);
  });
}

export async function cancelInterview(ctx: ServiceContext, caller: Caller, id: string): Promise<InterviewView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'cancel interviews');
  if (!isId(id)) throw notFound('interview', id);
  return ctx.db.transaction().execute(async (trx) => {
    const current = await findInterviewForUpdate(trx, caller.tenantId, id);
    if (!current) throw notFound('interview', id);
    if (current.status === 'cancelled') throw conflict(`interview ${id} is already cancelled`);
    const row = await updateInterviewRow(trx, caller.tenantId, id, { status: 'cancelled' });
    const plan = await findPlanByInterviewForUpdate(trx, caller.tenantId, id);
    if (plan && plan.status !== 'cancelled') await cancelPlanSteps(trx, caller.tenantId, caller.sub, plan, 'interview_cancelled', ctx.clock());
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'interview.cancelled', entityType: 'interview', entityId: id, data: { from: current.status, to: 'cancelled' } },
    ]);
    return toInterviewView(row);
  });
}

export async function getInterview(ctx: ServiceContext, caller: Caller, id: string): Promise<InterviewView> {
  requireScope(caller, 'followups:read');
  const [row] = isId(id) ? await findInterviewsByIds(ctx.db, caller.tenantId, [id]) : [];
  // A candidate token sees its own candidate's interviews only; another's answers as a missing one.
  if (!row || (caller.candidateId !== undefined && row.candidate_id !== caller.candidateId)) throw notFound('interview', id);
  return toInterviewView(row);
}

export async function listInterviewsPage(
  ctx: ServiceContext,
  caller: Caller,
  request: PageRequest,
  filter: { candidateId?: string | null; status?: string | null; startsAfter?: Date | null; startsBefore?: Date | null } = {},
  fields?: ViewFields,
): Promise<Page<InterviewView>> {
  requireScope(caller, 'followups:read');
  const window = pageWindow(request);
  const scope = candidateFilterFor(caller, filter.candidateId);
  if (scope.empty || (scope.candidateId !== undefined && !isId(scope.candidateId))) return toPage([], window.size, toInterviewView);
  const rows = await listInterviews(ctx.db, caller.tenantId, window, {
    candidateId: scope.candidateId,
    status: filter.status?.toLowerCase(),
    startsAfter: filter.startsAfter ?? undefined,
    startsBefore: filter.startsBefore ?? undefined,
  }, columnsFor(INTERVIEW_COLUMNS, fields, ['id']));
  return toPage(rows, window.size, toInterviewView);
}

/** Loader batch: the interviewers of many interviews in one query, grouped per interview. */
export async function getInterviewersByInterviewIds(ctx: ServiceContext, caller: Caller, interviewIds: readonly string[], fields?: ViewFields): Promise<InterviewerView[][]> {
  const rows = await findInterviewersByInterviewIds(ctx.db, caller.tenantId, interviewIds.filter(isId), columnsFor(INTERVIEWER_COLUMNS, fields, ['interview_id']));
  const grouped = new Map<string, InterviewerView[]>();
  for (const row of rows) {
    const list = grouped.get(row.interview_id) ?? [];
    list.push(toInterviewerView(row));
    grouped.set(row.interview_id, list);
  }
  return interviewIds.map((id) => grouped.get(id) ?? []);
}

/** Loader batch: companies by id in one query. */
export async function getCompaniesByIds(ctx: ServiceContext, caller: Caller, ids: readonly string[]): Promise<Array<CompanyView | null>> {
  const rows = await findCompaniesByIds(ctx.db, caller.tenantId, ids.filter(isId));
  const byId = new Map(rows.map((row) => [row.id, toCompanyView(row)]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Loader batch: interviews by id in one query. */
export async function getInterviewsByIds(ctx: ServiceContext, caller: Caller, ids: readonly string[], fields?: ViewFields): Promise<Array<InterviewView | null>> {
  const rows = await findInterviewsByIds(ctx.db, caller.tenantId, ids.filter(isId), columnsFor(INTERVIEW_COLUMNS, fields, ['id']));
  const byId = new Map(rows.map((row) => [row.id, toInterviewView(row)]));
  return ids.map((id) => byId.get(id) ?? null);
}

export function toInterviewView(row: InterviewRow): InterviewView {
  return {
    id: row.id,
    candidateId: row.candidate_id,
    companyId: row.company_id,
    positionTitle: row.position_title,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    timezone: row.timezone,
    channel: row.channel as Channel | null,
    decisionExpectedBy: row.decision_expected_by,
    callBackExpectedBy: row.call_back_expected_by,
    topics: row.topics,
    highlights: row.highlights ?? null,
    leftOut: row.left_out ?? null,
    resourceUrl: row.resource_url ?? null,
    status: row.status as InterviewView['status'],
    outcome: row.outcome as Outcome | null,
    outcomeAt: row.outcome_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toInterviewerView(row: InterviewerRow): InterviewerView {
  return {
    id: row.id,
    interviewId: row.interview_id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    title: row.title,
    timezone: row.timezone,
    preferredChannel: row.preferred_channel as Channel | null,
    isPrimaryContact: row.is_primary_contact,
    topics: row.topics ?? [],
    honorific: row.honorific ?? null,
  };
}

export function toCompanyView(row: CompanyRow): CompanyView {
  return {
    id: row.id,
    name: row.name,
    preferredChannel: row.preferred_channel as Channel | null,
    followUpStyle: row.follow_up_style as FollowUpStyle,
    timezone: row.timezone,
  };
}
