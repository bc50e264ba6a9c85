import { type Kysely, sql } from 'kysely';

// When the SMTP server (or the outbox) took a message, recorded the moment it did, before the
// rest of the sent bookkeeping: a worker that dies in between leaves a message that is known to
// be delivered, which the next worker finishes recording instead of sending again. Frozen in
// time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE messages ADD COLUMN accepted_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE messages DROP COLUMN accepted_at`.execute(db);
}
