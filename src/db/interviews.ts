import type { Kysely } from 'kysely';
import { anyId } from './ids.js';
import type { Database, InterviewColumn, InterviewerColumn, InterviewerRow, InterviewRow, NewInterview, NewInterviewer } from './schema.js';

export async function insertInterview(db: Kysely<Database>, row: NewInterview): Promise<InterviewRow> {
  return db.insertInto('interviews').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function insertInterviewers(db: Kysely<Database>, rows: NewInterviewer[]): Promise<InterviewerRow[]> {
  return db.insertInto('interviewers').values(rows).returningAll().execute();
}

export async function findInterview(db: Kysely<Database>, tenantId: string, id: string): Promise<InterviewRow | undefined> {
  return db.selectFrom('interviews').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** Locks the interview for the rest of the transaction, serialising changes to one interview. */
export async function findInterviewForUpdate(db: Kysely<Database>, tenantId: string, id: string): Promise<InterviewRow | undefined> {
  return db
    .selectFrom('interviews')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

/** With `columns`, rows carry only those columns. */
export async function findInterviewsByIds(db: Kysely<Database>, tenantId: string, ids: readonly string[], columns?: readonly InterviewColumn[]): Promise<InterviewRow[]> {
  if (ids.length === 0) return [];
  const query = db.selectFrom('interviews').where('tenant_id', '=', tenantId).where('id', '=', anyId(ids));
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}

export async function updateInterviewRow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
  changes: Partial<Pick<InterviewRow, 'starts_at' | 'ends_at' | 'status' | 'outcome' | 'outcome_at'>>,
): Promise<InterviewRow> {
  return db
    .updateTable('interviews')
    .set({ ...changes, updated_at: new Date() })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface InterviewListFilter {
  candidateId?: string | undefined;
  status?: string | undefined;
  startsAfter?: Date | undefined;
  startsBefore?: Date | undefined;
}

export async function listInterviews(
  db: Kysely<Database>,
  tenantId: string,
  page: { limit: number; afterId: string | undefined },
  filter: InterviewListFilter,
  columns?: readonly InterviewColumn[],
): Promise<InterviewRow[]> {
  let query = db.selectFrom('interviews').where('tenant_id', '=', tenantId);
  if (page.afterId) query = query.where('id', '>', page.afterId);
  if (filter.candidateId !== undefined) query = query.where('candidate_id', '=', filter.candidateId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.startsAfter !== undefined) query = query.where('starts_at', '>=', filter.startsAfter);
  if (filter.startsBefore !== undefined) query = query.where('starts_at', '<', filter.startsBefore);
  query = query.orderBy('id').limit(page.limit);
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}

/** Interviewers of many interviews in one query (the loader's batch), in their listed order. */
export async function findInterviewersByInterviewIds(
  db: Kysely<Database>,
  tenantId: string,
  interviewIds: readonly string[],
  columns?: readonly InterviewerColumn[],
): Promise<InterviewerRow[]> {
  if (interviewIds.length === 0) return [];
  const query = db
    .selectFrom('interviewers')
    .where('tenant_id', '=', tenantId)
    .where('interview_id', '=', anyId(interviewIds))
    .orderBy('interview_id')
    .orderBy('position');
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}
