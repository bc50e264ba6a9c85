import { type Kysely, sql } from 'kysely';
import type { Database, SigningKeyRow } from './schema.js';

// What authentication needs to know about a tenant, read in one statement and kept for a few
// seconds by each replica (src/security/tenant-access.ts), so a request costs no query.

export interface TenantAccessRow {
  disabled_at: Date | null;
  tokens_revoked_before: Date | null;
  revoked_jtis: string[];
  signing_keys: Array<{ kid: string; algorithm: string; pem: string }>;
}

export async function findTenantAccess(db: Kysely<Database>, tenantId: string): Promise<TenantAccessRow | undefined> {
  const result = await sql<TenantAccessRow>`
    SELECT t.disabled_at, t.tokens_revoked_before,
      coalesce((SELECT json_agg(r.jti) FROM revoked_tokens AS r WHERE r.tenant_id = t.tenant_id AND r.expires_at > now()), '[]') AS revoked_jtis,
      coalesce((SELECT json_agg(json_build_object('kid', k.kid, 'algorithm', k.algorithm, 'pem', k.public_key_pem))
                FROM signing_keys AS k WHERE k.tenant_id = t.tenant_id), '[]') AS signing_keys
    FROM tenants AS t
    WHERE t.tenant_id = ${tenantId}`.execute(db);
  const row = result.rows[0];
  if (!row) return undefined;
  // PGlite and pg both parse json; a driver that hands back text still works.
  const parse = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
  return { ...row, revoked_jtis: parse(row.revoked_jtis), signing_keys: parse(row.signing_keys) };
}

/** Refuses every token of the tenant issued before `instant` (never moves the line back). */
export async function raiseTokensRevokedBefore(db: Kysely<Database>, tenantId: string, instant: Date): Promise<Date | null> {
  const row = await db
    .updateTable('tenants')
    .set({ tokens_revoked_before: sql<Date>`GREATEST(coalesce(tokens_revoked_before, ${instant}), ${instant})` })
    .where('tenant_id', '=', tenantId)
    .returning('tokens_revoked_before')
    .executeTakeFirst();
  return row?.tokens_revoked_before ?? null;
}

export async function insertRevokedToken(db: Kysely<Database>, row: { tenant_id: string; jti: string; expires_at: Date; revoked_at: Date }): Promise<void> {
  await db
    .insertInto('revoked_tokens')
    .values(row)
    .onConflict((conflict) => conflict.columns(['tenant_id', 'jti']).doUpdateSet({ expires_at: sql`GREATEST(revoked_tokens.expires_at, excluded.expires_at)` }))
    .execute();
}

/** Revoked ids of tokens that have expired anyway are of no more use. */
export async function deleteExpiredRevokedTokens(db: Kysely<Database>, now: Date): Promise<void> {
  await db.deleteFrom('revoked_tokens').where('expires_at', '<=', now).execute();
}

export async function setTenantDisabled(db: Kysely<Database>, tenantId: string, disabledAt: Date | null): Promise<void> {
  await db.updateTable('tenants').set({ disabled_at: disabledAt }).where('tenant_id', '=', tenantId).execute();
}

export async function insertSigningKey(db: Kysely<Database>, row: Omit<SigningKeyRow, 'created_at'> & { created_at: Date }): Promise<SigningKeyRow | undefined> {
  return db
    .insertInto('signing_keys')
    .values(row)
    .onConflict((conflict) => conflict.columns(['tenant_id', 'kid']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function deleteSigningKeyRow(db: Kysely<Database>, tenantId: string, kid: string): Promise<SigningKeyRow | undefined> {
  return db.deleteFrom('signing_keys').where('tenant_id', '=', tenantId).where('kid', '=', kid).returningAll().executeTakeFirst();
}

export async function listSigningKeyRows(db: Kysely<Database>, tenantId: string): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('kid').execute();
}
