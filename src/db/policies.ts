import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface PolicyVersionRow {
  version: number;
  document: unknown;
  created_at: Date;
  created_by: string;
}

export async function findCurrentPolicy(db: Kysely<Database>, tenantId: string): Promise<PolicyVersionRow | undefined> {
  return db
    .selectFrom('policies')
    .select(['version', 'document', 'created_at', 'created_by'])
    .where('tenant_id', '=', tenantId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Fails on a duplicate (tenant_id, version): two concurrent updates cannot both win. */
export async function insertPolicyVersion(
  db: Kysely<Database>,
  row: { tenant_id: string; version: number; document: unknown; created_by: string },
): Promise<PolicyVersionRow> {
  return db
    .insertInto('policies')
    .values({ ...row, document: JSON.stringify(row.document) })
    .returning(['version', 'document', 'created_at', 'created_by'])
    .executeTakeFirstOrThrow();
}
