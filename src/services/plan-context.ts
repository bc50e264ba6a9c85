import type { Kysely } from 'kysely';
import { findCandidatesByIds } from '../db/candidates.js';
import { findCompaniesByIds } from '../db/companies.js';
import { findPlansByIds, findStepsByPlanIds } from '../db/follow-up-plans.js';
import { findInterviewersByInterviewIds, findInterviewsByIds } from '../db/interviews.js';
import { findMessagesByPlanIds } from '../db/messages.js';
import { findRepliesByInterviewIds } from '../db/replies.js';
import type { Database, FollowUpPlanRow, FollowUpStepRow, MessageRow, ReplyRow, TenantRow } from '../db/schema.js';
import { findSuppressedAddresses, suppressionKey } from '../db/suppressions.js';
import { findTenantById } from '../db/tenants.js';
import type { PolicyDocument } from '../domain/policy-document.js';
import type { Channel, EvaluationFacts, InterviewFacts, PlanStatus, StepFacts, StepKind } from '../domain/types.js';
import { PENDING_STATUSES, recipientOfStep, sentRecords, type StepStatus, toReplyRecord } from './follow-up-plans.js';
import { interviewFactsFromRows } from './interview-facts.js';
import type { CannedLetters } from './canned-letters.js';
import { loadPolicy } from './policies.js';

/**
 * Everything known about one plan, read fresh: what the evaluator, the composer and the
 * event handlers reason about. Loaded for many plans at once with a fixed number of queries.
 */
export interface PlanContext {
  tenant: TenantRow;
  policy: PolicyDocument;
  plan: FollowUpPlanRow;
  facts: InterviewFacts;
  steps: FollowUpStepRow[];
  messages: MessageRow[];
  replies: ReplyRow[];
  /** Suppressed addresses (lower-cased) among this plan's recipients. */
  suppressed: ReadonlySet<string>;
  /** Recent letters of other candidates (L12), where a use-case checks it; the composer extends it. */
  canned?: CannedLetters;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

export interface TenantFacts {
  tenant: TenantRow;
  policy: PolicyDocument;
}

/** The tenant and its current policy, as every plan context of the tenant carries them. */
export async function loadTenantFacts(db: Kysely<Database>, tenantId: string): Promise<TenantFacts | undefined> {
  const [tenant, policy] = await Promise.all([findTenantById(db, tenantId), loadPolicy(db, tenantId)]);
  return tenant ? { tenant, policy: policy.document } : undefined;
}

/** The contexts of several plans of one tenant (missing plans are simply absent from the map). */
export async function loadPlanContexts(
  db: Kysely<Database>,
  tenantId: string,
  planIds: readonly string[],
  /** The tenant and its policy when the caller already holds them (an advance reads them once, not per batch). */
  known?: TenantFacts,
): Promise<Map<string, PlanContext>> {
  const contexts = new Map<string, PlanContext>();
  const plans = await findPlansByIds(db, tenantId, [...new Set(planIds)]);
  if (plans.length === 0) return contexts;
  const interviewIds = plans.map((plan) => plan.interview_id);
  const [tenant, policy, interviews, interviewers, steps, messages, replies] = await Promise.all([
    known ? known.tenant : findTenantById(db, tenantId),
    known ? { document: known.policy } : loadPolicy(db, tenantId),
    findInterviewsByIds(db, tenantId, interviewIds),
    findInterviewersByInterviewIds(db, tenantId, interviewIds),
    findStepsByPlanIds(db, tenantId, plans.map((plan) => plan.id)),
    findMessagesByPlanIds(db, tenantId, plans.map((plan) => plan.id)),
    findRepliesByInterviewIds(db, tenantId, interviewIds),
  ]);
  const [candidates, companies] = await Promise.all([
    findCandidatesByIds(db, tenantId, [...new Set(interviews.map((row) => row.candidate_id))]),
    findCompaniesByIds(db, tenantId, [...new Set(interviews.map((row) => row.company_id))]),
  ]);
  const recipientAddresses = steps.flatMap((step) => [step.recipient_email, step.recipient_phone]).filter((a): a is string => a !== null);
  const suppressed = new Set(await findSuppressedAddresses(db, tenantId, recipientAddresses));

  const interviewById = new Map(interviews.map((row) => [row.id, row]));
  const candidateById = new Map(candidates.map((row) => [row.id, row]));
  const companyById = new Map(companies.map((row) => [row.id, row]));
  const interviewersByInterview = groupBy(interviewers, (row) => row.interview_id);
  const stepsByPlan = groupBy(steps, (row) => row.plan_id);
  const messagesByPlan = groupBy(messages, (row) => row.plan_id);
  const repliesByInterview = groupBy(replies, (row) => row.interview_id);

  for (const plan of plans) {
    const interview = interviewById.get(plan.interview_id)!;
    contexts.set(plan.id, {
      tenant: tenant!,
      policy: policy.document,
      plan,
      facts: interviewFactsFromRows(
        interview,
        candidateById.get(interview.candidate_id)!,
        companyById.get(interview.company_id)!,
        interviewersByInterview.get(interview.id) ?? [],
      ),
      steps: stepsByPlan.get(plan.id) ?? [],
      messages: messagesByPlan.get(plan.id) ?? [],
      replies: repliesByInterview.get(interview.id) ?? [],
      suppressed,
    });
  }
  return contexts;
}

export async function loadPlanContext(db: Kysely<Database>, tenantId: string, planId: string): Promise<PlanContext | undefined> {
  return (await loadPlanContexts(db, tenantId, [planId])).get(planId);
}

export function stepFactsOf(row: FollowUpStepRow): StepFacts {
  return {
    id: row.id,
    key: row.key,
    kind: row.kind as StepKind,
    channel: row.channel as Channel,
    recipient: recipientOfStep(row),
    dueAt: row.due_at,
    windowEndsAt: row.window_ends_at,
    approved: row.approved,
  };
}

export function isRecipientSuppressed(context: PlanContext, step: FollowUpStepRow): boolean {
  return [step.recipient_email, step.recipient_phone].some((address) => address !== null && context.suppressed.has(suppressionKey(address)));
}

/** The facts `evaluate` needs for one step of this plan. */
export function evaluationFactsFor(context: PlanContext, step: FollowUpStepRow): EvaluationFacts {
  return {
    interview: context.facts,
    policy: context.policy,
    planStatus: context.plan.status as PlanStatus,
    sent: sentRecords(context.steps),
    pending: context.steps
      .filter((other) => other.id !== step.id && PENDING_STATUSES.includes(other.status as StepStatus))
      .map((other) => {
        const facts = stepFactsOf(other);
        return { id: facts.id, key: facts.key, kind: facts.kind, recipient: facts.recipient, dueAt: facts.dueAt };
      }),
    replies: context.replies.map(toReplyRecord),
    recipientSuppressed: isRecipientSuppressed(context, step),
  };
}
