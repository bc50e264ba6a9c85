import { sql, type Kysely } from 'kysely';
import { ALL_BUCKETS, tenantBucket, workableTenant } from './fair-claims.js';
import type { Database } from './schema.js';

// Counts for operators (the metrics' gauges), across tenants.

/**
 * Steps due now and not yet evaluated, that the worker will take (not a disabled tenant's, nor a
 * sandbox's, whose time is its own): one index range per tenant bucket, so future steps cost nothing.
 */
export async function countDueSteps(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: string | number | null }>`
    SELECT sum(due.n) AS n FROM ${ALL_BUCKETS}
    CROSS JOIN LATERAL (
      SELECT count(*) AS n FROM follow_up_steps AS s
      WHERE ${tenantBucket('s')} = b.bucket AND s.status = 'scheduled' AND s.due_at <= now() AND ${workableTenant('s')}
    ) AS due`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** Messages not settled yet, by status. */
export async function countUnsettledMessages(db: Kysely<Database>): Promise<Array<{ status: string; n: number }>> {
  const { rows } = await sql<{ status: string; n: string | number }>`
    SELECT status, count(*) AS n FROM messages
    WHERE status IN ('held', 'queued', 'sending', 'retry', 'awaiting_delivery')
    GROUP BY status`.execute(db);
  return rows.map((row) => ({ status: row.status, n: Number(row.n) }));
}

export async function countPendingWebhookDeliveries(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: string | number }>`
    SELECT count(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'delivering')`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** The database answers (readiness). */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
