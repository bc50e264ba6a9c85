import { type Kysely, sql } from 'kysely';

// Claims that cost what is due, not how many tenants exist, and a send rate shared by every
// worker process. Frozen in time: never imports src/.
//
// The worker's claim indexes were (tenant_id, due time): a claim had to visit every tenant. They
// become (tenant bucket, due time), the bucket a hash of the tenant id in 0..63: a claim walks
// each of the 64 buckets' due rows in order (64 index probes when nothing is due, however many
// tenants there are) and deals what it finds out round-robin by tenant. One tenant's backlog
// fills its own bucket's walk only, so the tenants in the 63 other buckets are never behind it.
// The expression must stay exactly as the claim queries write it (src/db/fair-claims.ts).

const BUCKET = sql`(uuid_hash(tenant_id) & 63)`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX follow_up_steps_due_by_bucket ON follow_up_steps (${BUCKET}, due_at) WHERE status = 'scheduled'`.execute(db);
  await sql`CREATE INDEX messages_due_by_bucket ON messages (${BUCKET}, next_attempt_at) WHERE status IN ('queued', 'retry')`.execute(db);
  await sql`CREATE INDEX messages_leased_by_bucket ON messages (${BUCKET}, next_attempt_at) WHERE status = 'sending'`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_due_by_bucket ON webhook_deliveries (${BUCKET}, next_attempt_at) WHERE status IN ('pending', 'delivering')`.execute(db);
  await sql`DROP INDEX follow_up_steps_due`.execute(db);
  await sql`DROP INDEX messages_due`.execute(db);
  await sql`DROP INDEX messages_leased`.execute(db);
  await sql`DROP INDEX webhook_deliveries_due`.execute(db);

  // SMTP_MAX_PER_SECOND: one row per short time slot (numbered from the database's clock, which
  // every worker process shares), counting the messages handed to the relay in it. A send takes
  // a place with one upsert; a full slot answers nothing and the sender waits for the next one.
  await sql`
    CREATE TABLE smtp_send_slots (
      slot bigint PRIMARY KEY,
      taken integer NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE smtp_send_slots`.execute(db);
  await sql`CREATE INDEX follow_up_steps_due ON follow_up_steps (tenant_id, due_at) WHERE status = 'scheduled'`.execute(db);
  await sql`CREATE INDEX messages_due ON messages (tenant_id, next_attempt_at) WHERE status IN ('queued', 'retry', 'sending')`.execute(db);
  await sql`CREATE INDEX messages_leased ON messages (tenant_id, next_attempt_at) WHERE status = 'sending'`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, next_attempt_at) WHERE status IN ('pending', 'delivering')`.execute(db);
  await sql`DROP INDEX follow_up_steps_due_by_bucket`.execute(db);
  await sql`DROP INDEX messages_due_by_bucket`.execute(db);
  await sql`DROP INDEX messages_leased_by_bucket`.execute(db);
  await sql`DROP INDEX webhook_deliveries_due_by_bucket`.execute(db);
}
