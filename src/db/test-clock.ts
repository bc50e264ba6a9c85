import { type Kysely, sql } from 'kysely';
import { bucketOf, tenantBucket } from './fair-claims.js';
import type { Database, FollowUpStepRow, MessageRow, ReplyForwardRow } from './schema.js';

// A sandbox's due work, claimed for an advance of its test clock. The live worker's claims
// (src/db/follow-up-plans.ts, src/db/messages.ts) leave sandboxes out; these take one sandbox's
// work, by its own clock, in due order. The caller holds the tenant's row lock, so no other
// advance of the same sandbox runs meanwhile; SKIP LOCKED leaves a row that a request is
// changing right now to the caller to notice (it claims less than is due). Each names the
// tenant's bucket as well, so it walks the worker's due-work indexes (migration 0015).

/** Scheduled steps of the tenant due by `upTo`, oldest first, locked for the caller's transaction. */
export async function claimSandboxSteps(db: Kysely<Database>, tenantId: string, upTo: Date, limit: number): Promise<FollowUpStepRow[]> {
  return db
    .selectFrom('follow_up_steps')
    .selectAll()
    .where(tenantBucket('follow_up_steps'), '=', bucketOf(tenantId))
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'scheduled')
    .where('due_at', '<=', upTo)
    .orderBy('due_at')
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Messages of the tenant that may go by `upTo`, claimed with a lease (settled in the same transaction). */
export async function claimSandboxMessages(db: Kysely<Database>, tenantId: string, upTo: Date, leaseUntil: Date, limit: number): Promise<MessageRow[]> {
  const result = await sql<MessageRow>`
    UPDATE messages AS m
    SET status = 'sending', attempts = m.attempts + CASE WHEN m.accepted_at IS NULL THEN 1 ELSE 0 END,
        next_attempt_at = ${leaseUntil}, updated_at = ${upTo}
    FROM (
      SELECT tenant_id, id FROM messages
      WHERE ${tenantBucket('messages')} = ${bucketOf(tenantId)} AND tenant_id = ${tenantId} AND status IN ('queued', 'retry', 'sending') AND next_attempt_at <= ${upTo}
      ORDER BY next_attempt_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ) AS claimed
    WHERE m.tenant_id = claimed.tenant_id AND m.id = claimed.id
    RETURNING m.*`.execute(db);
  return result.rows;
}

/**
 * Replies to forward to the tenant's candidates that fell due by `upTo`, kept (marked sent at
 * `sentAt`, never at SMTP_URL) in one statement; returns them for their `.eml` copies.
 */
export async function keepSandboxForwards(db: Kysely<Database>, tenantId: string, upTo: Date, sentAt: Date): Promise<ReplyForwardRow[]> {
  return db
    .updateTable('reply_forwards')
    .set((eb) => ({ status: 'sent', sent_at: sql<Date>`GREATEST(${eb.ref('next_attempt_at')}, ${sentAt})`, next_attempt_at: null, last_error: null, attempts: eb('attempts', '+', 1), updated_at: upTo }))
    .where('tenant_id', '=', tenantId)
    .where('status', 'in', ['queued', 'retry', 'sending'])
    .where('next_attempt_at', '<=', upTo)
    .returningAll()
    .execute();
}

/**
 * The earliest moment, no later than `until`, at which something of the tenant falls due: a
 * scheduled step, a message or reply forward waiting to go, an interview ending. Null when
 * nothing is due by then.
 */
export async function nextSandboxDueAt(db: Kysely<Database>, tenantId: string, until: Date): Promise<Date | null> {
  const result = await sql<{ at: Date | null }>`
    SELECT LEAST(
      (SELECT min(due_at) FROM follow_up_steps WHERE ${tenantBucket('follow_up_steps')} = ${bucketOf(tenantId)} AND tenant_id = ${tenantId} AND status = 'scheduled' AND due_at <= ${until}),
      (SELECT min(next_attempt_at) FROM messages WHERE ${tenantBucket('messages')} = ${bucketOf(tenantId)} AND tenant_id = ${tenantId} AND status IN ('queued', 'retry', 'sending') AND next_attempt_at <= ${until}),
      (SELECT min(next_attempt_at) FROM reply_forwards WHERE tenant_id = ${tenantId} AND status IN ('queued', 'retry', 'sending') AND next_attempt_at <= ${until}),
      (SELECT min(ends_at) FROM interviews WHERE tenant_id = ${tenantId} AND ended_notified_at IS NULL AND ends_at <= ${until})
    ) AS at`.execute(db);
  const at = result.rows[0]?.at ?? null;
  return at === null ? null : new Date(at);
}
