import { type Kysely, sql } from 'kysely';
import { anyId, newId } from './ids.js';
import type { CompanyRow, Database } from './schema.js';

export interface CompanyFields {
  name: string;
  preferredChannel?: string | null | undefined;
  followUpStyle?: string | undefined;
  timezone?: string | null | undefined;
}

/**
 * Interviews name their company; the first mention creates it and later mentions update only
 * the settings they give, so one interview cannot erase what another recorded.
 */
export async function upsertCompanyByName(db: Kysely<Database>, tenantId: string, fields: CompanyFields): Promise<CompanyRow> {
  const updates: { preferred_channel?: string | null; follow_up_style?: string; timezone?: string | null } = {};
  if (fields.preferredChannel !== undefined) updates.preferred_channel = fields.preferredChannel;
  if (fields.followUpStyle !== undefined) updates.follow_up_style = fields.followUpStyle;
  if (fields.timezone !== undefined) updates.timezone = fields.timezone;
  const changed = Object.keys(updates).length > 0;
  return db
    .insertInto('companies')
    .values({
      tenant_id: tenantId,
      id: newId(),
      name: fields.name,
      preferred_channel: fields.preferredChannel ?? null,
      follow_up_style: fields.followUpStyle ?? 'standard',
      timezone: fields.timezone ?? null,
    })
    .onConflict((oc) =>
      oc
        .expression(sql`tenant_id, lower(name)`)
        // Setting the name to itself when nothing new was given keeps RETURNING working.
        .doUpdateSet(changed ? { ...updates, updated_at: sql`now()` } : { name: sql`companies.name` }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findCompaniesByIds(db: Kysely<Database>, tenantId: string, ids: readonly string[]): Promise<CompanyRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('companies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', anyId(ids)).execute();
}
