import type { Kysely } from 'kysely';
import { anyId } from './ids.js';
import type { CandidateColumn, CandidateRow, CandidateUpdate, Database, NewCandidate } from './schema.js';

export async function insertCandidate(db: Kysely<Database>, row: NewCandidate): Promise<CandidateRow> {
  return db.insertInto('candidates').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateCandidateRow(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
  changes: CandidateUpdate,
): Promise<CandidateRow | undefined> {
  return db
    .updateTable('candidates')
    .set(changes)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Locks the row for the rest of the transaction: a read-modify-write never loses an update. */
export async function findCandidateForUpdate(db: Kysely<Database>, tenantId: string, id: string): Promise<CandidateRow | undefined> {
  return db.selectFrom('candidates').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
}

/** With `columns`, rows carry only those columns. */
export async function findCandidatesByIds(db: Kysely<Database>, tenantId: string, ids: readonly string[], columns?: readonly CandidateColumn[]): Promise<CandidateRow[]> {
  if (ids.length === 0) return [];
  const query = db.selectFrom('candidates').where('tenant_id', '=', tenantId).where('id', '=', anyId(ids));
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}

export interface CandidateListFilter {
  email?: string | undefined;
  consent?: boolean | undefined;
  /** A candidate token's own candidate: the list holds that row at most. */
  id?: string | undefined;
}

export async function listCandidates(
  db: Kysely<Database>,
  tenantId: string,
  page: { limit: number; afterId: string | undefined },
  filter: CandidateListFilter,
  columns?: readonly CandidateColumn[],
): Promise<CandidateRow[]> {
  let query = db.selectFrom('candidates').where('tenant_id', '=', tenantId);
  if (page.afterId) query = query.where('id', '>', page.afterId);
  if (filter.email !== undefined) query = query.where((eb) => eb(eb.fn('lower', ['email']), '=', filter.email!.toLowerCase()));
  if (filter.consent !== undefined) query = query.where('consent', '=', filter.consent);
  if (filter.id !== undefined) query = query.where('id', '=', filter.id);
  query = query.orderBy('id').limit(page.limit);
  return columns ? query.select(columns).execute() : query.selectAll().execute();
}
