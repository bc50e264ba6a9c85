import { type Kysely, sql } from 'kysely';

// The debrief: what the candidate tells us after the interview (per-interviewer topics and
// honorific, what they want to stress, what they left out, a resource worth sending), the
// marker that the interview.ended webhook went out, and the sentence hashes of letters sent,
// which the canned-letter rule (L12) compares against. Frozen in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE interviews
    ADD COLUMN highlights text,
    ADD COLUMN left_out text,
    ADD COLUMN resource_url text,
    ADD COLUMN ended_notified_at timestamptz`.execute(db);
  // Interviews that ended before this migration are not announced after the fact.
  await sql`UPDATE interviews SET ended_notified_at = ends_at WHERE ends_at <= now()`.execute(db);
  // Only interviews not yet announced are in it, so the worker's scan stays small.
  await sql`CREATE INDEX interviews_ending ON interviews (tenant_id, ends_at) WHERE ended_notified_at IS NULL`.execute(db);

  await sql`ALTER TABLE interviewers
    ADD COLUMN topics jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN honorific text`.execute(db);

  await sql`CREATE TABLE message_sentences (
    tenant_id uuid NOT NULL,
    message_id uuid NOT NULL,
    hash text NOT NULL,
    candidate_id uuid NOT NULL,
    company_id uuid NOT NULL,
    recipient_address text,
    sentence_count integer NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, message_id, hash)
  )`.execute(db);
  // L12 reads, once per worker batch, the recent letters to the batch's companies and addresses.
  await sql`CREATE INDEX message_sentences_by_company ON message_sentences (tenant_id, company_id, created_at)`.execute(db);
  await sql`CREATE INDEX message_sentences_by_address ON message_sentences (tenant_id, recipient_address, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE message_sentences`.execute(db);
  await sql`ALTER TABLE interviewers DROP COLUMN topics, DROP COLUMN honorific`.execute(db);
  await sql`DROP INDEX interviews_ending`.execute(db);
  await sql`ALTER TABLE interviews DROP COLUMN highlights, DROP COLUMN left_out, DROP COLUMN resource_url, DROP COLUMN ended_notified_at`.execute(db);
}
