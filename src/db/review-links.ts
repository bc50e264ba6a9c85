import type { Kysely } from 'kysely';
import type { Database, ReviewLinkRow } from './schema.js';

// Links to the candidate's page, stored by the SHA-256 of their secret (never the secret).

export async function insertReviewLink(
  db: Kysely<Database>,
  row: { tenant_id: string; id: string; candidate_id: string; secret_sha256: string; created_by: string; created_at: Date; expires_at: Date },
): Promise<ReviewLinkRow> {
  return db.insertInto('review_links').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The exchange's lookup: the hash alone finds the link, whichever tenant it belongs to. */
export async function findReviewLinkBySecretHash(db: Kysely<Database>, secretSha256: string): Promise<ReviewLinkRow | undefined> {
  return db.selectFrom('review_links').selectAll().where('secret_sha256', '=', secretSha256).executeTakeFirst();
}

/** Marks the link revoked (the first revocation's time stays); undefined when there is no such link. */
export async function revokeReviewLinkRow(db: Kysely<Database>, tenantId: string, id: string, at: Date): Promise<ReviewLinkRow | undefined> {
  const row = await db
    .updateTable('review_links')
    .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row;
}
