import type { Kysely } from 'kysely';
import type { Database, TenantRow } from './schema.js';

export async function insertTenant(db: Kysely<Database>, row: Omit<TenantRow, 'created_at' | 'disabled_at' | 'tokens_revoked_before'>): Promise<TenantRow> {
  return db.insertInto('tenants').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findTenantById(db: Kysely<Database>, tenantId: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
}

export async function findTenantBySlug(db: Kysely<Database>, slug: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
}
