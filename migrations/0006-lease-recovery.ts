import { type Kysely, sql } from 'kysely';

// Messages a worker holds (status 'sending', leased) are few, but a crashed worker's ones must
// be found at once among a backlog of due messages, to go first when their leases run out. Frozen
// in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX messages_leased ON messages (tenant_id, next_attempt_at) WHERE status = 'sending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX messages_leased`.execute(db);
}
