import type { Kysely } from 'kysely';
import type { Insertable } from 'kysely';
import type { Database, RepliesTable, ReplyRow } from './schema.js';

export async function insertReply(db: Kysely<Database>, row: Omit<Insertable<RepliesTable>, 'created_at'>): Promise<ReplyRow> {
  return db.insertInto('replies').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findRepliesByInterviewIds(db: Kysely<Database>, tenantId: string, interviewIds: readonly string[]): Promise<ReplyRow[]> {
  if (interviewIds.length === 0) return [];
  return db
    .selectFrom('replies')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('interview_id', 'in', interviewIds)
    .orderBy('received_at')
    .execute();
}

