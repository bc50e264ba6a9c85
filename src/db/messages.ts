import { type Kysely, type RawBuilder, sql } from 'kysely';
import { plansOfCandidate } from './candidate-scope.js';
import type { Database, MessageRow, NewMessage } from './schema.js';

export async function insertMessages(db: Kysely<Database>, rows: NewMessage[]): Promise<MessageRow[]> {
  if (rows.length === 0) return [];
  return db.insertInto('messages').values(rows).returningAll().execute();
}

export async function findMessagesByIds(db: Kysely<Database>, tenantId: string, ids: readonly string[]): Promise<MessageRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
}

export async function findMessageForUpdate(db: Kysely<Database>, tenantId: string, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function findMessagesByStepIds(db: Kysely<Database>, tenantId: string, stepIds: readonly string[]): Promise<MessageRow[]> {
  if (stepIds.length === 0) return [];
  return db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('step_id', 'in', stepIds).execute();
}

export async function findMessagesByPlanIds(db: Kysely<Database>, tenantId: string, planIds: readonly string[]): Promise<MessageRow[]> {
  if (planIds.length === 0) return [];
  return db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('plan_id', 'in', planIds).execute();
}

export type MessageChanges = Partial<
  Pick<MessageRow, 'status' | 'subject' | 'body' | 'attempts' | 'last_error' | 'next_attempt_at' | 'sent_at' | 'in_reply_to'>
> & { lint_findings?: string };

export async function updateMessage(db: Kysely<Database>, tenantId: string, id: string, changes: MessageChanges, now: Date): Promise<MessageRow> {
  return db
    .updateTable('messages')
    .set({ ...changes, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Messages of these steps not yet on their way are stopped (a reply, an outcome, a cancelled plan). */
export async function cancelUnsentMessagesOfSteps(db: Kysely<Database>, tenantId: string, stepIds: readonly string[], now: Date): Promise<void> {
  if (stepIds.length === 0) return;
  await db
    .updateTable('messages')
    .set({ status: 'cancelled', next_attempt_at: null, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('step_id', 'in', stepIds)
    .where('status', 'in', ['held', 'queued', 'retry', 'awaiting_delivery'])
    .execute();
}

/**
 * Claims messages that may go now, across tenants, a fair share per tenant, with a lease: each
 * becomes `sending` until `leaseUntil`, its attempts counted. A worker that dies mid-send leaves
 * the lease to run out, and the message is claimed again. SKIP LOCKED keeps concurrent workers
 * from ever claiming the same row. The lease's end (`next_attempt_at`) is also its token: the
 * writes below change a claimed message only while it still carries the lease they hold.
 */
export async function claimDueMessages(db: Kysely<Database>, now: Date, leaseUntil: Date, limit: number): Promise<MessageRow[]> {
  // Messages whose holder died (their lease ran out) go first: they were due before the ones
  // queued since, and a restarted worker sends them within seconds, not after the backlog.
  const abandoned = await claimWhere(db, now, leaseUntil, limit, sql`status = 'sending'`);
  if (abandoned.length === limit) return abandoned;
  return [...abandoned, ...(await claimWhere(db, now, leaseUntil, limit - abandoned.length, sql`status IN ('queued', 'retry')`))];
}

async function claimWhere(db: Kysely<Database>, now: Date, leaseUntil: Date, limit: number, status: RawBuilder<unknown>): Promise<MessageRow[]> {
  // A message the server already took (its sender died before recording the rest) is claimed to
  // finish that record, not to be sent again: no attempt is counted for it.
  const result = await sql<MessageRow>`
    UPDATE messages AS m
    SET status = 'sending', attempts = m.attempts + CASE WHEN m.accepted_at IS NULL THEN 1 ELSE 0 END,
        next_attempt_at = ${leaseUntil}, updated_at = ${now}
    FROM (
      SELECT due.tenant_id, due.id
      FROM tenants AS t
      CROSS JOIN LATERAL (
        SELECT tenant_id, id FROM messages
        WHERE tenant_id = t.tenant_id AND ${status} AND next_attempt_at <= ${now}
        ORDER BY next_attempt_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ) AS due
      -- A disabled tenant's work waits until it is enabled again; a sandbox's runs only when its
      -- test clock is advanced (its due times are in its own time, not the wall clock's).
      WHERE t.disabled_at IS NULL AND NOT t.sandbox
      LIMIT ${limit}
    ) AS claimed
    WHERE m.tenant_id = claimed.tenant_id AND m.id = claimed.id
    RETURNING m.*`.execute(db);
  return result.rows;
}

/**
 * When the next message falls due after `now` (a retry, or a lease that runs out), if any: a
 * worker with nothing to send waits for it rather than for its next tick. One index probe per
 * tenant.
 */
export async function findNextDueAt(db: Kysely<Database>, now: Date): Promise<Date | null> {
  const result = await sql<{ next: Date | null }>`
    SELECT min(due.next_attempt_at) AS next
    FROM tenants AS t
    CROSS JOIN LATERAL (
      SELECT next_attempt_at FROM messages
      WHERE tenant_id = t.tenant_id AND status IN ('queued', 'retry', 'sending') AND next_attempt_at > ${now}
      ORDER BY next_attempt_at
      LIMIT 1
    ) AS due`.execute(db);
  return result.rows[0]?.next ?? null;
}

/**
 * Records, on its own and at once, that the server took a claimed message, if `lease` is still
 * its lease; returns whether it did. The record guards against this worker dying, not the
 * database: it commits without waiting for the write-ahead log to reach the disk (the change is
 * visible to every session at once, and on disk within a fraction of a second). Each message
 * waits for the one before it to be recorded, so that wait counts: measured, skipping the flush
 * made a whole dispatch about 1.6 times faster. Only a database crash in that fraction of a
 * second could lose the record, and then the message is sent once more, with its Message-ID.
 */
export async function markMessageAccepted(db: Kysely<Database>, tenantId: string, id: string, lease: Date, at: Date): Promise<boolean> {
  const result = await sql`
    UPDATE messages SET accepted_at = ${at}
    FROM (SELECT set_config('synchronous_commit', 'off', true)) AS this_commit_only
    WHERE tenant_id = ${tenantId} AND id = ${id} AND status = 'sending' AND next_attempt_at = ${lease}`.execute(db);
  return (result.numAffectedRows ?? 0n) > 0n;
}

/**
 * Extends the leases of messages a worker still holds (its heartbeat), each only while it
 * carries the lease the worker holds; returns the ids renewed. Their new lease, and token, is
 * `until`: the holder uses it from here on. A message missing from the answer is no longer the
 * holder's (settled, or its lease ran out and another worker took it).
 */
export async function renewMessageLeases(
  db: Kysely<Database>,
  held: ReadonlyArray<{ tenantId: string; id: string; lease: Date }>,
  until: Date,
  now: Date,
): Promise<Set<string>> {
  if (held.length === 0) return new Set();
  const values = sql.join(held.map((m) => sql`(${m.tenantId}::uuid, ${m.id}::uuid, ${m.lease}::timestamptz)`));
  const result = await sql<{ id: string }>`
    UPDATE messages AS m
    SET next_attempt_at = ${until}, updated_at = ${now}
    FROM (VALUES ${values}) AS v(tenant_id, id, lease)
    WHERE m.tenant_id = v.tenant_id AND m.id = v.id AND m.status = 'sending' AND m.next_attempt_at = v.lease
    RETURNING m.id`.execute(db);
  return new Set(result.rows.map((row) => row.id));
}

/** Settles a claimed message only while `lease` is still its lease: a late finisher changes nothing. */
export async function settleClaimedMessage(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
  lease: Date,
  changes: MessageChanges,
  now: Date,
): Promise<MessageRow | undefined> {
  return db
    .updateTable('messages')
    .set({ ...changes, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'sending')
    .where('next_attempt_at', '=', lease)
    .returningAll()
    .executeTakeFirst();
}

export interface MessageListFilter {
  statuses?: string[] | undefined;
  planId?: string | undefined;
  stepId?: string | undefined;
  /** A candidate token's candidate: only the messages of their plans. */
  candidateId?: string | undefined;
}

export async function listMessages(
  db: Kysely<Database>,
  tenantId: string,
  page: { limit: number; afterId: string | undefined },
  filter: MessageListFilter,
): Promise<MessageRow[]> {
  let query = db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId);
  if (page.afterId) query = query.where('id', '>', page.afterId);
  if (filter.statuses?.length) query = query.where('status', 'in', filter.statuses);
  if (filter.planId) query = query.where('plan_id', '=', filter.planId);
  if (filter.stepId) query = query.where('step_id', '=', filter.stepId);
  if (filter.candidateId) query = query.where('plan_id', 'in', plansOfCandidate(tenantId, filter.candidateId));
  return query.orderBy('id').limit(page.limit).execute();
}

export interface MessageSettlement {
  id: string;
  /** The lease the settler holds (see claimDueMessages). */
  lease: Date;
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  sent_at: Date | null;
}

/**
 * Settles many claimed messages in one statement, each only while it still carries the lease its
 * settler holds; returns the ids that were settled. A late finisher whose lease was taken over
 * changes nothing.
 */
export async function settleClaimedMessages(db: Kysely<Database>, tenantId: string, rows: readonly MessageSettlement[], now: Date): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const values = sql.join(
    rows.map(
      (r) =>
        sql`(${r.id}::uuid, ${r.lease}::timestamptz, ${r.status}::text, ${r.attempts}::integer, ${r.next_attempt_at}::timestamptz, ${r.last_error}::text, ${r.sent_at}::timestamptz)`,
    ),
  );
  const result = await sql<{ id: string }>`
    UPDATE messages AS m
    SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at, last_error = v.last_error,
        sent_at = v.sent_at, updated_at = ${now}
    FROM (VALUES ${values}) AS v(id, lease, status, attempts, next_attempt_at, last_error, sent_at)
    WHERE m.tenant_id = ${tenantId} AND m.id = v.id AND m.status = 'sending' AND m.next_attempt_at = v.lease
    RETURNING m.id`.execute(db);
  return new Set(result.rows.map((row) => row.id));
}
