import { type RawBuilder, sql } from 'kysely';

// What the worker's claims share (steps, messages, webhook deliveries).
//
// Work due is found through indexes on (tenant bucket, due time) (migration 0015): the bucket is
// a hash of the tenant id into TENANT_BUCKETS. A claim walks each bucket's due rows in due order,
// at most its size from each: 64 index probes when nothing is due, whether 10 or 100,000 tenants
// exist. What the walks find is dealt out round-robin by tenant (each tenant's oldest first, then
// each tenant's second…), so a tenant with thousands of rows due takes no more of a claim than
// one with a few, and the tenants outside its bucket are never queued behind its backlog. Two
// tenants sharing a bucket (one chance in 64 for a given pair) share its walk in due order.

/** Must match the index expression of migration 0015 exactly. */
export const TENANT_BUCKETS = 64;

/** The tenant bucket of a row of `alias`, written as the indexes of migration 0015 write it. */
export function tenantBucket(alias: string): RawBuilder<number> {
  return sql<number>`(uuid_hash(${sql.ref(`${alias}.tenant_id`)}) & 63)`;
}

/** The buckets, as a FROM item `b(bucket)`. */
export const ALL_BUCKETS = sql`generate_series(0, ${sql.lit(TENANT_BUCKETS - 1)}) AS b(bucket)`;

/**
 * The worker takes work of this row's tenant (a disabled tenant's work waits until it is enabled
 * again; a sandbox's steps and messages run only when its test clock is advanced, as its due
 * times are in its own time). A subquery per row found, so the walk stays a walk of the index
 * (and such rows are passed over without ending the walk early).
 */
export function workableTenant(alias: string, options: { sandboxes: boolean } = { sandboxes: false }): RawBuilder<boolean> {
  const condition = options.sandboxes ? sql`t.disabled_at IS NULL` : sql`t.disabled_at IS NULL AND NOT t.sandbox`;
  return sql<boolean>`coalesce((SELECT ${condition} FROM tenants AS t WHERE t.tenant_id = ${sql.ref(`${alias}.tenant_id`)}), false)`;
}

/** The bucket of one tenant, for a claim of that tenant's work alone through the same indexes. */
export function bucketOf(tenantId: string): RawBuilder<number> {
  return sql<number>`(uuid_hash(${tenantId}::uuid) & 63)`;
}
