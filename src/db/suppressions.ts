import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Addresses are stored lower-cased (emails) or as given (E.164 phones). */
export function suppressionKey(address: string): string {
  return address.trim().toLowerCase();
}

export async function insertSuppression(
  db: Kysely<Database>,
  row: { tenant_id: string; address: string; reason: 'hard_bounce' | 'opt_out' | 'manual'; detail: string | null },
): Promise<void> {
  await db
    .insertInto('suppressions')
    .values({ ...row, address: suppressionKey(row.address) })
    .onConflict((oc) => oc.columns(['tenant_id', 'address']).doNothing())
    .execute();
}

export async function deleteSuppression(db: Kysely<Database>, tenantId: string, address: string): Promise<boolean> {
  const result = await db.deleteFrom('suppressions').where('tenant_id', '=', tenantId).where('address', '=', suppressionKey(address)).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Which of these addresses are suppressed (lower-cased keys). */
export async function findSuppressedAddresses(db: Kysely<Database>, tenantId: string, addresses: readonly string[]): Promise<string[]> {
  const keys = [...new Set(addresses.map(suppressionKey))];
  if (keys.length === 0) return [];
  const rows = await db.selectFrom('suppressions').select('address').where('tenant_id', '=', tenantId).where('address', 'in', keys).execute();
  return rows.map((row) => row.address);
}

/** A tenant's suppression list in address order; the cursor is the last address seen. */
export async function listSuppressions(db: Kysely<Database>, tenantId: string, page: { limit: number; afterAddress: string | undefined }) {
  let query = db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId);
  if (page.afterAddress !== undefined) query = query.where('address', '>', page.afterAddress);
  return query.orderBy('address').limit(page.limit).execute();
}

export async function findSuppression(db: Kysely<Database>, tenantId: string, address: string) {
  return db.selectFrom('suppressions').selectAll().where('tenant_id', '=', tenantId).where('address', '=', suppressionKey(address)).executeTakeFirst();
}
