import { type Kysely, sql } from 'kysely';
import type { Database, InterviewerRow, InterviewRow } from './schema.js';

// The debrief's writes: an interview's after-the-interview facts, its interviewers added,
// changed and removed, and the interview.ended scan.

export type InterviewDebriefChanges = Partial<
  Pick<InterviewRow, 'position_title' | 'decision_expected_by' | 'call_back_expected_by' | 'highlights' | 'left_out' | 'resource_url' | 'channel'> & {
    topics: string;
  }
>;

export async function updateInterviewDebrief(db: Kysely<Database>, tenantId: string, id: string, changes: InterviewDebriefChanges, now: Date): Promise<InterviewRow> {
  return db
    .updateTable('interviews')
    .set({ ...changes, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** An interviewer and (locked) their interview's row, so changes to one panel are serialised. */
export async function findInterviewerForUpdate(db: Kysely<Database>, tenantId: string, id: string): Promise<InterviewerRow | undefined> {
  return db.selectFrom('interviewers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
}

export type InterviewerChanges = Partial<
  Pick<InterviewerRow, 'name' | 'email' | 'phone' | 'title' | 'timezone' | 'preferred_channel' | 'is_primary_contact' | 'honorific'> & { topics: string }
>;

export async function updateInterviewerRow(db: Kysely<Database>, tenantId: string, id: string, changes: InterviewerChanges): Promise<InterviewerRow> {
  return db.updateTable('interviewers').set(changes).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Only one primary contact per interview: the others lose the mark. */
export async function clearPrimaryContact(db: Kysely<Database>, tenantId: string, interviewId: string, exceptId: string): Promise<void> {
  await db
    .updateTable('interviewers')
    .set({ is_primary_contact: false })
    .where('tenant_id', '=', tenantId)
    .where('interview_id', '=', interviewId)
    .where('id', '<>', exceptId)
    .where('is_primary_contact', '=', true)
    .execute();
}

export async function deleteInterviewer(db: Kysely<Database>, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('interviewers').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/**
 * Interviews whose end has passed and that were not yet announced, marked announced in the
 * same statement (so two workers never announce one twice). Reads the partial index
 * interviews_ending, which holds only interviews not yet announced.
 */
export async function claimEndedInterviews(
  db: Kysely<Database>,
  now: Date,
  limit: number,
  /** One sandbox's interviews (an advance of its test clock); absent: every live tenant's. */
  sandboxTenantId?: string,
): Promise<Array<Pick<InterviewRow, 'tenant_id' | 'id' | 'candidate_id' | 'ends_at' | 'status'>>> {
  // A sandbox's interviews end in its own time: only an advance of its test clock announces them.
  const whose =
    sandboxTenantId === undefined
      ? sql`tenant_id NOT IN (SELECT tenant_id FROM tenants WHERE sandbox)`
      : sql`tenant_id = ${sandboxTenantId}`;
  const result = await sql<Pick<InterviewRow, 'tenant_id' | 'id' | 'candidate_id' | 'ends_at' | 'status'>>`
    UPDATE interviews SET ended_notified_at = ${now}
    WHERE (tenant_id, id) IN (
      SELECT tenant_id, id FROM interviews
      WHERE ended_notified_at IS NULL AND ends_at <= ${now} AND ${whose}
      ORDER BY ends_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING tenant_id, id, candidate_id, ends_at, status`.execute(db);
  return result.rows;
}
