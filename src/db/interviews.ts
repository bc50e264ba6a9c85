import type { Kysely } from 'kysely';
import type { Database, InterviewerRow, InterviewRow, NewInterview, NewInterviewer } from './schema.js';

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

export async function findInterviewsByIds(db: Kysely<Database>, tenantId: string, ids: readonly string[]): Promise<InterviewRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('interviews').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
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
): Promise<InterviewRow[]> {
  let query = db.selectFrom('interviews').selectAll().where('tenant_id', '=', tenantId);
  if (page.afterId) query = query.where('id', '>', page.afterId);
  if (filter.candidateId !== undefined) query = query.where('candidate_id', '=', filter.candidateId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.startsAfter !== undefined) query = query.where('starts_at', '>=', filter.startsAfter);
  if (filter.startsBefore !== undefined) query = query.where('starts_at', '<', filter.startsBefore);
  return query.orderBy('id').limit(page.limit).execute();
}

/** Interviewers of many interviews in one query (the loader's batch), in their listed order. */
export async function findInterviewersByInterviewIds(
  db: Kysely<Database>,
  tenantId: string,
  interviewIds: readonly string[],
): Promise<InterviewerRow[]> {
  if (interviewIds.length === 0) return [];
  return db
    .selectFrom('interviewers')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('interview_id', 'in', interviewIds)
    .orderBy('interview_id')
    .orderBy('position')
    .execute();
}
