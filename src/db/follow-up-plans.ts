import { type Kysely, sql } from 'kysely';
import { plansOfCandidate } from './candidate-scope.js';
import { ALL_BUCKETS, tenantBucket, workableTenant } from './fair-claims.js';
import { anyId } from './ids.js';
import type { Database, FollowUpPlanColumn, FollowUpPlanRow, FollowUpStepColumn, FollowUpStepRow, NewFollowUpStep } from './schema.js';

export async function insertPlan(
  db: Kysely<Database>,
  row: { tenant_id: string; id: string; interview_id: string; created_at: Date; updated_at: Date },
): Promise<FollowUpPlanRow> {
  return db.insertInto('follow_up_plans').values(row).returningAll().executeTakeFirstOrThrow();
}

// Readers given `columns` return rows with only those columns.

export async function findPlansByIds(db: Kysely<Database>, tenantId: string, ids: readonly string[], columns?: readonly FollowUpPlanColumn[]): Promise<FollowUpPlanRow[]> {
  if (ids.length === 0) return [];
  const query = db.selectFrom('follow_up_plans').where('tenant_id', '=', tenantId).where('id', '=', anyId(ids));
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}

export async function findPlansByInterviewIds(
  db: Kysely<Database>,
  tenantId: string,
  interviewIds: readonly string[],
  columns?: readonly FollowUpPlanColumn[],
): Promise<FollowUpPlanRow[]> {
  if (interviewIds.length === 0) return [];
  const query = db.selectFrom('follow_up_plans').where('tenant_id', '=', tenantId).where('interview_id', '=', anyId(interviewIds));
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}

/** Locks the plan: every change to a plan and its steps goes through this row, one at a time. */
export async function findPlanByInterviewForUpdate(db: Kysely<Database>, tenantId: string, interviewId: string): Promise<FollowUpPlanRow | undefined> {
  return db
    .selectFrom('follow_up_plans')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('interview_id', '=', interviewId)
    .forUpdate()
    .executeTakeFirst();
}

export async function findPlanForUpdate(db: Kysely<Database>, tenantId: string, id: string): Promise<FollowUpPlanRow | undefined> {
  return db.selectFrom('follow_up_plans').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updatePlanStatus(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
  status: string,
  reason: string | null,
  now: Date,
): Promise<FollowUpPlanRow> {
  return db
    .updateTable('follow_up_plans')
    .set({ status, status_reason: reason, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertSteps(db: Kysely<Database>, rows: NewFollowUpStep[]): Promise<FollowUpStepRow[]> {
  if (rows.length === 0) return [];
  return db.insertInto('follow_up_steps').values(rows).returningAll().execute();
}

/** The steps of many plans, each plan's in due order. */
export async function findStepsByPlanIds(
  db: Kysely<Database>,
  tenantId: string,
  planIds: readonly string[],
  columns?: readonly FollowUpStepColumn[],
): Promise<FollowUpStepRow[]> {
  if (planIds.length === 0) return [];
  const query = db
    .selectFrom('follow_up_steps')
    .where('tenant_id', '=', tenantId)
    .where('plan_id', '=', anyId(planIds))
    .orderBy('plan_id')
    .orderBy('due_at')
    .orderBy('id');
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}

export async function findStepsByIds(db: Kysely<Database>, tenantId: string, ids: readonly string[], columns?: readonly FollowUpStepColumn[]): Promise<FollowUpStepRow[]> {
  if (ids.length === 0) return [];
  const query = db.selectFrom('follow_up_steps').where('tenant_id', '=', tenantId).where('id', '=', anyId(ids));
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}

export type StepChanges = Partial<
  Pick<
    FollowUpStepRow,
    | 'channel'
    | 'status'
    | 'reason'
    | 'recipient_interviewer_id'
    | 'recipient_name'
    | 'recipient_email'
    | 'recipient_phone'
    | 'recipient_timezone'
    | 'due_at'
    | 'window_ends_at'
    | 'late'
    | 'approved'
    | 'sent_at'
  >
> & { decisions?: string };

export async function updateStep(db: Kysely<Database>, tenantId: string, id: string, changes: StepChanges, now: Date): Promise<FollowUpStepRow> {
  return db
    .updateTable('follow_up_steps')
    .set({ ...changes, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface StepListFilter {
  statuses?: string[] | undefined;
  kinds?: string[] | undefined;
  dueBefore?: Date | undefined;
  planId?: string | undefined;
  /** A candidate token's candidate: only the steps of their plans. */
  candidateId?: string | undefined;
}

/** Steps in due order; the cursor is the last (due_at, id) seen. */
export async function listSteps(
  db: Kysely<Database>,
  tenantId: string,
  page: { limit: number; after: { at: Date; id: string } | undefined },
  filter: StepListFilter,
  columns?: readonly FollowUpStepColumn[],
): Promise<FollowUpStepRow[]> {
  let query = db.selectFrom('follow_up_steps').where('tenant_id', '=', tenantId);
  if (page.after) {
    const { at: dueAt, id } = page.after;
    query = query.where((eb) => eb.or([eb('due_at', '>', dueAt), eb.and([eb('due_at', '=', dueAt), eb('id', '>', id)])]));
  }
  if (filter.statuses?.length) query = query.where('status', 'in', filter.statuses);
  if (filter.kinds?.length) query = query.where('kind', 'in', filter.kinds);
  if (filter.dueBefore) query = query.where('due_at', '<', filter.dueBefore);
  if (filter.planId) query = query.where('plan_id', '=', filter.planId);
  if (filter.candidateId) query = query.where('plan_id', 'in', plansOfCandidate(tenantId, filter.candidateId));
  query = query.orderBy('due_at').orderBy('id').limit(page.limit);
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}

/** When the next scheduled step falls due after `now` (any tenant's; null: none): one index probe per tenant bucket. */
export async function findNextStepDueAt(db: Kysely<Database>, now: Date): Promise<Date | null> {
  const result = await sql<{ next: Date | null }>`
    SELECT min(d.due_at) AS next
    FROM ${ALL_BUCKETS}
    CROSS JOIN LATERAL (
      SELECT s.due_at FROM follow_up_steps AS s
      WHERE ${tenantBucket('s')} = b.bucket AND s.status = 'scheduled' AND s.due_at > ${now}
      ORDER BY s.due_at
      LIMIT 1
    ) AS d`.execute(db);
  const next = result.rows[0]?.next ?? null;
  return next === null ? null : new Date(next);
}

/**
 * Claims the plans that have steps due by `now`, across tenants, round-robin by tenant (see
 * fair-claims.ts), about `limit` steps' worth (a plan is never split), locking them for the caller's transaction (SKIP LOCKED: a
 * plan another worker, or an API call, is changing is left to it). A step is claimed with its
 * plan, so all of a plan's due steps go to one claim: two claims never split a plan, and none of
 * its steps is left behind for the next tick because another claim held the plan.
 */
export async function lockPlansWithDueSteps(db: Kysely<Database>, now: Date, limit: number): Promise<Array<{ tenant_id: string; id: string }>> {
  const result = await sql<{ tenant_id: string; id: string }>`
    WITH due AS (
      SELECT d.tenant_id, d.plan_id, d.due_at
      FROM ${ALL_BUCKETS}
      CROSS JOIN LATERAL (
        SELECT s.tenant_id, s.plan_id, s.due_at FROM follow_up_steps AS s
        WHERE ${tenantBucket('s')} = b.bucket AND s.status = 'scheduled' AND s.due_at <= ${now} AND ${workableTenant('s')}
        ORDER BY s.due_at
        LIMIT ${limit}
        -- Steps another lane is evaluating are passed over, so concurrent claims walk on to
        -- different rows instead of all finding the same plans locked.
        FOR UPDATE OF s SKIP LOCKED
      ) AS d
    ), turns AS (
      SELECT tenant_id, plan_id, min(due_at) AS due_at, count(*) AS steps,
        row_number() OVER (PARTITION BY tenant_id ORDER BY min(due_at), plan_id) AS turn
      FROM due
      GROUP BY tenant_id, plan_id
    ), dealt AS (
      -- Plans in turn, as long as their steps fit in the batch (the first always goes).
      SELECT tenant_id, plan_id, turn, due_at,
        sum(steps) OVER (ORDER BY turn, due_at, tenant_id, plan_id ROWS UNBOUNDED PRECEDING) AS steps_so_far,
        row_number() OVER (ORDER BY turn, due_at, tenant_id, plan_id) AS position
      FROM turns
    )
    SELECT p.tenant_id, p.id
    FROM dealt
    JOIN follow_up_plans AS p ON p.tenant_id = dealt.tenant_id AND p.id = dealt.plan_id
    WHERE dealt.steps_so_far <= ${limit} OR dealt.position = 1
    ORDER BY dealt.turn, dealt.due_at, dealt.tenant_id, dealt.plan_id
    FOR UPDATE OF p SKIP LOCKED`.execute(db);
  return result.rows;
}

/**
 * The steps of these plans due by `now`, each plan's in due order. Read after the plans' locks
 * are taken (a statement of its own, so it sees what the last holder of a lock wrote).
 */
export async function findDueStepsOfPlans(db: Kysely<Database>, plans: ReadonlyArray<{ tenant_id: string; id: string }>, now: Date): Promise<FollowUpStepRow[]> {
  if (plans.length === 0) return [];
  const values = sql.join(plans.map((plan) => sql`(${plan.tenant_id}::uuid, ${plan.id}::uuid)`));
  // A step another claim's walk holds (it could not take the plan, which is ours) is left to
  // the next claim of this drain, once that claim's transaction has let go of it.
  const result = await sql<FollowUpStepRow>`
    SELECT s.* FROM follow_up_steps AS s
    JOIN (VALUES ${values}) AS v(tenant_id, plan_id) ON s.tenant_id = v.tenant_id AND s.plan_id = v.plan_id
    WHERE s.status = 'scheduled' AND s.due_at <= ${now}
    ORDER BY s.tenant_id, s.plan_id, s.due_at, s.id
    FOR UPDATE OF s SKIP LOCKED`.execute(db);
  return result.rows;
}

/** Claims due steps, whole plans at a time (see lockPlansWithDueSteps); `plans` counts the plans claimed. */
export async function claimDueSteps(db: Kysely<Database>, now: Date, limit: number): Promise<{ plans: number; steps: FollowUpStepRow[] }> {
  const plans = await lockPlansWithDueSteps(db, now, limit);
  return { plans: plans.length, steps: await findDueStepsOfPlans(db, plans, now) };
}

export async function setStepStatusForPlan(
  db: Kysely<Database>,
  tenantId: string,
  planId: string,
  from: string,
  to: string,
  now: Date,
): Promise<FollowUpStepRow[]> {
  return db
    .updateTable('follow_up_steps')
    .set({ status: to, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('plan_id', '=', planId)
    .where('status', '=', from)
    .returningAll()
    .execute();
}

export async function findStepForUpdate(db: Kysely<Database>, tenantId: string, id: string): Promise<FollowUpStepRow | undefined> {
  return db.selectFrom('follow_up_steps').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Locks plans for the rest of the transaction, in id order. Every use-case that changes a
 * plan's steps takes its plan's lock first, so their writes serialise per plan. The worker
 * passes `skipLocked`: it never waits for a plan someone else is changing, it leaves those
 * steps for its next batch — which is also what keeps it out of deadlocks.
 */
export async function lockPlans(db: Kysely<Database>, tenantId: string, ids: readonly string[], options: { skipLocked: boolean }): Promise<FollowUpPlanRow[]> {
  if (ids.length === 0) return [];
  let query = db.selectFrom('follow_up_plans').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).orderBy('id').forUpdate();
  if (options.skipLocked) query = query.skipLocked();
  return query.execute();
}

/** The columns of a step that evaluation and delivery change, as a whole. */
export interface StepState {
  id: string;
  status: string;
  reason: string | null;
  channel: string;
  due_at: Date;
  /** JSON text of the rule results. */
  decisions: string;
  late: boolean;
  approved: boolean;
  sent_at: Date | null;
}

/** Writes many steps' new states in one statement (a worker batch would otherwise cost a round trip per step). */
export async function updateStepStates(db: Kysely<Database>, tenantId: string, states: readonly StepState[], now: Date): Promise<void> {
  if (states.length === 0) return;
  const values = sql.join(
    states.map(
      (s) =>
        sql`(${s.id}::uuid, ${s.status}::text, ${s.reason}::text, ${s.channel}::text, ${s.due_at}::timestamptz, ${s.decisions}::jsonb, ${s.late}::boolean, ${s.approved}::boolean, ${s.sent_at}::timestamptz)`,
    ),
  );
  await sql`
    UPDATE follow_up_steps AS s
    SET status = v.status, reason = v.reason, channel = v.channel, due_at = v.due_at, decisions = v.decisions,
        late = v.late, approved = v.approved, sent_at = v.sent_at, updated_at = ${now}
    FROM (VALUES ${values}) AS v(id, status, reason, channel, due_at, decisions, late, approved, sent_at)
    WHERE s.tenant_id = ${tenantId} AND s.id = v.id`.execute(db);
}

/**
 * Moves those of these plans that are in status `from` to `to`, when they have a step in one of
 * the `pending` statuses (`withPending`) or none (`!withPending`); returns the plans moved. Each
 * plan's steps are looked up through its own key (tenant, plan), so the cost follows the plans
 * given, not the tenant's pending steps.
 */
export async function movePlansByPendingSteps(
  db: Kysely<Database>,
  tenantId: string,
  ids: readonly string[],
  change: { from: string; to: string; withPending: boolean; pending: readonly string[] },
  now: Date,
): Promise<FollowUpPlanRow[]> {
  if (ids.length === 0) return [];
  return db
    .updateTable('follow_up_plans')
    .set({ status: change.to, status_reason: null, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', anyId(ids))
    .where('status', '=', change.from)
    .where((eb) => {
      const pendingStep = eb.exists(
        eb
          .selectFrom('follow_up_steps as s')
          .select(sql.lit(1).as('one'))
          .whereRef('s.tenant_id', '=', 'follow_up_plans.tenant_id')
          .whereRef('s.plan_id', '=', 'follow_up_plans.id')
          .where('s.status', '=', sql<string>`any(${change.pending}::text[])`),
      );
      return change.withPending ? pendingStep : eb.not(pendingStep);
    })
    .returningAll()
    .execute();
}

/**
 * Records what became of many steps' messages (sent or failed) in one statement. The rule
 * results come back only when asked for (for a webhook): they are most of a step's bytes.
 */
export async function updateStepOutcomes(
  db: Kysely<Database>,
  tenantId: string,
  rows: ReadonlyArray<{ id: string; status: string; reason: string | null; sent_at: Date | null }>,
  now: Date,
  options: { withDecisions: boolean },
): Promise<Array<{ id: string; plan_id: string; late: boolean; decisions: unknown }>> {
  if (rows.length === 0) return [];
  const values = sql.join(rows.map((r) => sql`(${r.id}::uuid, ${r.status}::text, ${r.reason}::text, ${r.sent_at}::timestamptz)`));
  const result = await sql<{ id: string; plan_id: string; late: boolean; decisions: unknown }>`
    UPDATE follow_up_steps AS s
    SET status = v.status, reason = v.reason, sent_at = v.sent_at, updated_at = ${now}
    FROM (VALUES ${values}) AS v(id, status, reason, sent_at)
    WHERE s.tenant_id = ${tenantId} AND s.id = v.id
    RETURNING s.id, s.plan_id, s.late, ${options.withDecisions ? sql`s.decisions` : sql`NULL`} AS decisions`.execute(db);
  return result.rows;
}

