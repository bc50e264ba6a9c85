import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

// Erasing a candidate's personal data (API.md `eraseCandidate`), table by table. Rows stay (ids
// keep foreign keys and counts intact); what identifies a person goes. Records outside the
// candidate's own rows (audit data, webhook payloads and attempts) are found by the values
// themselves, since they may quote them anywhere.

export const ERASED = '[erased]';

export interface PersonalValues {
  interviewIds: string[];
  /** Names, email addresses and phone numbers of the candidate, their interviewers and repliers. */
  values: string[];
}

/** Everything that identifies the candidate and the people of their interviews. */
export async function findPersonalValues(db: Kysely<Database>, tenantId: string, candidateId: string): Promise<PersonalValues> {
  const candidate = await db.selectFrom('candidates').select(['name', 'email', 'phone', 'linkedin_url']).where('tenant_id', '=', tenantId).where('id', '=', candidateId).executeTakeFirst();
  const interviews = await db.selectFrom('interviews').select('id').where('tenant_id', '=', tenantId).where('candidate_id', '=', candidateId).execute();
  const interviewIds = interviews.map((row) => row.id);
  const interviewers = interviewIds.length
    ? await db.selectFrom('interviewers').select(['name', 'email', 'phone']).where('tenant_id', '=', tenantId).where('interview_id', 'in', interviewIds).execute()
    : [];
  const replies = interviewIds.length
    ? await db.selectFrom('replies').select(['from_email', 'from_name']).where('tenant_id', '=', tenantId).where('interview_id', 'in', interviewIds).execute()
    : [];
  const values = [
    candidate?.name,
    candidate?.email,
    candidate?.phone,
    candidate?.linkedin_url,
    ...interviewers.flatMap((row) => [row.name, row.email, row.phone]),
    ...replies.flatMap((row) => [row.from_email, row.from_name]),
  ].filter((value): value is string => typeof value === 'string' && value.trim().length >= 3 && value !== ERASED);
  return { interviewIds, values: [...new Set(values)] };
}

/** Replaces the personal fields of the candidate, their interviews, plans' steps, messages and replies. */
export async function erasePersonalRows(db: Kysely<Database>, tenantId: string, candidateId: string, interviewIds: readonly string[], now: Date): Promise<void> {
  await db
    .updateTable('candidates')
    .set({ name: ERASED, email: '', phone: null, linkedin_url: null, signature: null, timezone: null, erased_at: now, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', candidateId)
    .execute();
  if (interviewIds.length === 0) return;
  // The debrief is the candidate's own words: it goes with them.
  await db
    .updateTable('interviews')
    .set({ topics: '[]', highlights: null, left_out: null, resource_url: null, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', interviewIds)
    .execute();
  // An interviewer needs an email or a phone (a check): an empty email is neither personal nor usable.
  await db
    .updateTable('interviewers')
    .set({ name: ERASED, email: '', phone: null, title: null, topics: '[]', honorific: null })
    .where('tenant_id', '=', tenantId)
    .where('interview_id', 'in', interviewIds)
    .execute();
  const replies = db.selectFrom('replies').select('id').where('tenant_id', '=', tenantId).where('interview_id', 'in', interviewIds);
  // Replies forwarded to the candidate, and the mail they came in, quote both sides in full.
  await db
    .updateTable('reply_forwards')
    .set({ from_name: ERASED, reply_to_name: ERASED, reply_to_address: '', to_name: ERASED, to_address: '', subject: ERASED, body: ERASED, last_error: null, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('reply_id', 'in', replies)
    .execute();
  await db
    .updateTable('inbound_messages')
    .set({ raw: Buffer.alloc(0), size: 0, envelope_from: null, envelope_to: '[]', from_address: null, subject: null, detail: null })
    .where('tenant_id', '=', tenantId)
    .where('interview_id', 'in', interviewIds)
    .execute();
  await db
    .updateTable('replies')
    .set({ from_email: '', from_name: null, text: null, concerns: null })
    .where('tenant_id', '=', tenantId)
    .where('interview_id', 'in', interviewIds)
    .execute();
  const plans = db.selectFrom('follow_up_plans').select('id').where('tenant_id', '=', tenantId).where('interview_id', 'in', interviewIds);
  await sql`
    UPDATE follow_up_steps
    SET recipient_name = ${ERASED}, recipient_email = NULL, recipient_phone = NULL, updated_at = ${now},
        decisions = (SELECT coalesce(jsonb_agg(jsonb_build_object('rule', d ->> 'rule', 'outcome', d ->> 'outcome', 'detail', '')), '[]'::jsonb)
                     FROM jsonb_array_elements(decisions) AS d)
    WHERE tenant_id = ${tenantId} AND plan_id IN (${plans})`.execute(db);
  // L12's sentence hashes say nothing about anyone, but their rows name the recipient.
  await db.deleteFrom('message_sentences').where('tenant_id', '=', tenantId).where('candidate_id', '=', candidateId).execute();
  await db
    .updateTable('messages')
    .set({
      to_name: ERASED,
      to_address: null,
      from_name: ERASED,
      reply_to_name: ERASED,
      reply_to_address: '',
      subject: ERASED,
      body: ERASED,
      lint_findings: '[]',
      last_error: null,
      updated_at: now,
    })
    .where('tenant_id', '=', tenantId)
    .where('plan_id', 'in', plans)
    .execute();
}

/** The candidate's own address and phone leave the suppression list (nothing goes to them anyway). */
export async function deleteSuppressionsOf(db: Kysely<Database>, tenantId: string, addresses: readonly string[]): Promise<void> {
  if (addresses.length === 0) return;
  await db.deleteFrom('suppressions').where('tenant_id', '=', tenantId).where(sql<string>`lower(address)`, 'in', addresses.map((address) => address.toLowerCase())).execute();
}

/** A predicate: the text holds any of the values (case-insensitive). */
function mentionsAny(column: ReturnType<typeof sql>, values: readonly string[]) {
  return sql<boolean>`EXISTS (SELECT 1 FROM unnest(${sql.val([...values])}::text[]) AS v WHERE strpos(lower(${column}), lower(v)) > 0)`;
}

/**
 * Audit events, webhook payloads and attempt errors that quote any of the values. Audit data
 * becomes `{"erased": true}`, the one change the append-only trigger allows (migration 0007).
 */
export async function eraseMentions(db: Kysely<Database>, tenantId: string, values: readonly string[]): Promise<{ auditEvents: number; webhookDeliveries: number }> {
  if (values.length === 0) return { auditEvents: 0, webhookDeliveries: 0 };
  const audit = await sql`
    UPDATE audit_events SET data = '{"erased": true}'::jsonb
    WHERE tenant_id = ${tenantId} AND ${mentionsAny(sql`data::text`, values)}`.execute(db);
  const deliveries = await sql`
    UPDATE webhook_deliveries
    SET payload = jsonb_build_object('type', payload -> 'type', 'timestamp', payload -> 'timestamp', 'data', '{"erased": true}'::jsonb)
    WHERE tenant_id = ${tenantId} AND ${mentionsAny(sql`payload::text`, values)}`.execute(db);
  await sql`
    UPDATE webhook_attempts SET error = ${ERASED}
    WHERE tenant_id = ${tenantId} AND error IS NOT NULL AND ${mentionsAny(sql`error`, values)}`.execute(db);
  return { auditEvents: Number(audit.numAffectedRows ?? 0), webhookDeliveries: Number(deliveries.numAffectedRows ?? 0) };
}
