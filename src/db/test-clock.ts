import { type Kysely, sql } from 'kysely';
import type { Database, FollowUpStepRow, MessageRow } from './schema.js';

// A sandbox's due work, claimed for an advance of its test clock. The live worker's claims
// (src/db/follow-up-plans.ts, src/db/messages.ts) leave sandboxes out; these take one sandbox's
// work, by its own clock, in due order. The caller holds the tenant's row lock, so no other
// advance of the same sandbox runs meanwhile; SKIP LOCKED leaves a row that a request is
// changing right now to the caller to notice (it claims less than is due).

/** Scheduled steps of the tenant due by `upTo`, oldest first, locked for the caller's transaction. */
export async function claimSandboxSteps(db: Kysely<Database>, tenantId: string, upTo: Date, limit: number): Promise<FollowUpStepRow[]> {
  return db
    .selectFrom('follow_up_steps')
    .selectAll()
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
      WHERE tenant_id = ${tenantId} AND status IN ('queued', 'retry', 'sending') AND next_attempt_at <= ${upTo}
      ORDER BY next_attempt_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ) AS claimed
    WHERE m.tenant_id = claimed.tenant_id AND m.id = claimed.id
    RETURNING m.*`.execute(db);
  return result.rows;
}
