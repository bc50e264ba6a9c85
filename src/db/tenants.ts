import type { Insertable, Kysely } from 'kysely';
import type { Database, TenantRow, TenantsTable } from './schema.js';

export async function insertTenant(db: Kysely<Database>, row: Omit<Insertable<TenantsTable>, 'created_at'>): Promise<TenantRow> {
  return db.insertInto('tenants').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findTenantById(db: Kysely<Database>, tenantId: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
}

export async function findTenantBySlug(db: Kysely<Database>, slug: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
}

/** A tenant's test clock (null for a live tenant), or undefined when there is no such tenant. */
export async function findTestClock(db: Kysely<Database>, tenantId: string): Promise<{ sandbox: boolean; test_clock_at: Date | null } | undefined> {
  return db.selectFrom('tenants').select(['sandbox', 'test_clock_at']).where('tenant_id', '=', tenantId).executeTakeFirst();
}

/** Locks the tenant's row for the rest of the transaction: advances of one test clock take turns. */
export async function lockTenant(db: Kysely<Database>, tenantId: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('tenant_id', '=', tenantId).forUpdate().executeTakeFirst();
}

export async function setTestClock(db: Kysely<Database>, tenantId: string, at: Date): Promise<void> {
  await db.updateTable('tenants').set({ test_clock_at: at }).where('tenant_id', '=', tenantId).where('sandbox', '=', true).execute();
}

/** Turns an existing tenant into a sandbox whose clock starts at `at` (the development tenant of older data directories). */
export async function makeSandbox(db: Kysely<Database>, tenantId: string, at: Date): Promise<void> {
  await db.updateTable('tenants').set({ sandbox: true, test_clock_at: at }).where('tenant_id', '=', tenantId).where('sandbox', '=', false).execute();
}
