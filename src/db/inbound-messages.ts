import { type Kysely, sql } from 'kysely';
import type { Database, InboundMessageRow, MessageRow, ReplyForwardRow } from './schema.js';

// Mail that came back, stored raw before it is acknowledged, and the forwards of replies to
// candidates. The lookups by message id and Message-ID header are the inbound side's routing:
// they run before the tenant is known.

export interface NewInboundMessage {
  id: string;
  source: string;
  provider_message_id: string | null;
  envelope_from: string | null;
  envelope_to: string[];
  raw: Buffer;
  received_at: Date;
}

/** Stores a raw message; null when the provider already delivered this one (same source and provider id). */
export async function insertInboundMessage(db: Kysely<Database>, row: NewInboundMessage): Promise<{ id: string } | null> {
  const inserted = await db
    .insertInto('inbound_messages')
    .values({ ...row, envelope_to: JSON.stringify(row.envelope_to), size: row.raw.length })
    .onConflict((oc) => oc.columns(['source', 'provider_message_id']).where('provider_message_id', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted ?? null;
}

export async function findInboundByProviderId(db: Kysely<Database>, source: string, providerMessageId: string): Promise<{ id: string; status: string } | undefined> {
  return db.selectFrom('inbound_messages').select(['id', 'status']).where('source', '=', source).where('provider_message_id', '=', providerMessageId).executeTakeFirst();
}

/** Ids of stored messages not yet handled, oldest first. */
export async function findPendingInboundIds(db: Kysely<Database>, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('inbound_messages').select('id').where('status', '=', 'received').orderBy('received_at').limit(limit).execute();
  return rows.map((row) => row.id);
}

/** Locks one pending message for handling; undefined when another process has it or it is done. */
/** A stored message still waiting to be handled (read before parsing, without a lock). */
export async function findReceivedInbound(db: Kysely<Database>, id: string): Promise<InboundMessageRow | undefined> {
  return db.selectFrom('inbound_messages').selectAll().where('id', '=', id).where('status', '=', 'received').executeTakeFirst();
}

export async function lockPendingInbound(trx: Kysely<Database>, id: string): Promise<InboundMessageRow | undefined> {
  return trx.selectFrom('inbound_messages').selectAll().where('id', '=', id).where('status', '=', 'received').forUpdate().skipLocked().executeTakeFirst();
}

export async function updateInboundMessage(
  db: Kysely<Database>,
  id: string,
  values: Partial<Pick<InboundMessageRow, 'tenant_id' | 'status' | 'classification' | 'detail' | 'matched_by' | 'message_id' | 'interview_id' | 'reply_id' | 'from_address' | 'subject' | 'message_id_header' | 'processed_at' | 'attempts'>>,
): Promise<void> {
  await db.updateTable('inbound_messages').set(values).where('id', '=', id).execute();
}

export async function countInboundByStatus(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('inbound_messages').select(['status', sql<string>`count(*)`.as('count')]).groupBy('status').execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

export async function listInboundMessages(
  db: Kysely<Database>,
  tenantId: string,
  page: { limit: number; before?: { receivedAt: Date; id: string }; status?: string[] },
): Promise<Array<Omit<InboundMessageRow, 'raw'>>> {
  let query = db
    .selectFrom('inbound_messages')
    .select(['id', 'tenant_id', 'source', 'provider_message_id', 'envelope_from', 'envelope_to', 'size', 'status', 'classification', 'detail', 'matched_by', 'message_id', 'interview_id', 'reply_id', 'from_address', 'subject', 'message_id_header', 'attempts', 'received_at', 'processed_at'])
    .where('tenant_id', '=', tenantId);
  if (page.status?.length) query = query.where('status', 'in', page.status);
  if (page.before) {
    const { receivedAt, id } = page.before;
    query = query.where((eb) => eb.or([eb('received_at', '<', receivedAt), eb.and([eb('received_at', '=', receivedAt), eb('id', '<', id)])]));
  }
  return query.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

/** Our message a reply token names (ids are unique across tenants). */
export async function findMessageById(db: Kysely<Database>, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Our messages among these Message-ID headers (In-Reply-To, References, a bounce's copy). */
export async function findMessagesByHeaders(db: Kysely<Database>, headers: readonly string[]): Promise<MessageRow[]> {
  if (headers.length === 0) return [];
  return db.selectFrom('messages').selectAll().where('message_id_header', 'in', headers).execute();
}

/** Active plans with a step addressed to this email: the last way to match a reply. At most `limit`. */
export async function findOpenPlansWritingTo(db: Kysely<Database>, email: string, limit: number): Promise<Array<{ tenant_id: string; plan_id: string; interview_id: string }>> {
  return db
    .selectFrom('follow_up_steps as s')
    .innerJoin('follow_up_plans as p', (join) => join.onRef('p.tenant_id', '=', 's.tenant_id').onRef('p.id', '=', 's.plan_id'))
    .select(['s.tenant_id', 's.plan_id', 'p.interview_id'])
    .where(sql`lower(s.recipient_email)`, '=', email.toLowerCase())
    .where('p.status', '=', 'active')
    .distinct()
    .limit(limit)
    .execute();
}

export async function insertReplyForward(db: Kysely<Database>, row: Omit<ReplyForwardRow, 'status' | 'attempts' | 'last_error' | 'sent_at' | 'created_at' | 'updated_at'>): Promise<void> {
  await db.insertInto('reply_forwards').values(row).execute();
}

/** Forwards that may go now, leased until `leaseUntil` (a crashed sender's lease runs out). */
export async function claimDueForwards(db: Kysely<Database>, now: Date, leaseUntil: Date, limit: number): Promise<ReplyForwardRow[]> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('reply_forwards')
      .selectAll()
      .where('status', 'in', ['queued', 'retry', 'sending'])
      .where('next_attempt_at', '<=', now)
      // A sandbox's forwards are kept, never sent, when its test clock is advanced.
      .where('tenant_id', 'not in', (eb) => eb.selectFrom('tenants').select('tenant_id').where('sandbox', '=', true))
      .orderBy('next_attempt_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const row of due) {
      await trx
        .updateTable('reply_forwards')
        .set({ status: 'sending', next_attempt_at: leaseUntil, attempts: row.attempts + 1, updated_at: now })
        .where('tenant_id', '=', row.tenant_id)
        .where('id', '=', row.id)
        .execute();
    }
    return due.map((row) => ({ ...row, attempts: row.attempts + 1 }));
  });
}

export async function settleForward(
  db: Kysely<Database>,
  row: Pick<ReplyForwardRow, 'tenant_id' | 'id'>,
  values: Pick<ReplyForwardRow, 'status' | 'next_attempt_at' | 'last_error' | 'sent_at'>,
  now: Date,
): Promise<void> {
  await db.updateTable('reply_forwards').set({ ...values, updated_at: now }).where('tenant_id', '=', row.tenant_id).where('id', '=', row.id).execute();
}

export async function findForwardsByReplyIds(db: Kysely<Database>, tenantId: string, replyIds: readonly string[]): Promise<ReplyForwardRow[]> {
  if (replyIds.length === 0) return [];
  return db.selectFrom('reply_forwards').selectAll().where('tenant_id', '=', tenantId).where('reply_id', 'in', replyIds).execute();
}
