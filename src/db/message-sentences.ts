import { type Kysely, sql } from 'kysely';
import { anyId } from './ids.js';
import type { Database, MessageSentencesTable } from './schema.js';

// The sentence hashes of letters that left (L12).

export type NewMessageSentence = Omit<MessageSentencesTable, 'created_at'> & { created_at: Date };

/**
 * A worker batch records some ten sentences for each of up to hundreds of letters: one array
 * parameter per column (unnest) rather than a parameter per value, which the query builder and
 * the driver would otherwise handle one by one.
 */
export async function insertMessageSentences(db: Kysely<Database>, rows: readonly NewMessageSentence[]): Promise<void> {
  if (rows.length === 0) return;
  const column = <T>(pick: (row: NewMessageSentence) => T): T[] => rows.map(pick);
  await sql`
    INSERT INTO message_sentences (tenant_id, message_id, hash, candidate_id, company_id, recipient_address, sentence_count, created_at)
    SELECT * FROM unnest(
      ${column((row) => row.tenant_id)}::uuid[], ${column((row) => row.message_id)}::uuid[], ${column((row) => row.hash)}::text[],
      ${column((row) => row.candidate_id)}::uuid[], ${column((row) => row.company_id)}::uuid[], ${column((row) => row.recipient_address)}::text[],
      ${column((row) => row.sentence_count)}::integer[], ${column((row) => row.created_at.toISOString())}::timestamptz[])
    ON CONFLICT DO NOTHING`.execute(db);
}

export async function deleteMessageSentences(db: Kysely<Database>, tenantId: string, messageId: string): Promise<void> {
  await db.deleteFrom('message_sentences').where('tenant_id', '=', tenantId).where('message_id', '=', messageId).execute();
}

/** Sentences of letters sent since `since` to any of these companies or addresses: one query for a whole batch. */
export async function findRecentSentences(
  db: Kysely<Database>,
  tenantId: string,
  scope: { companyIds: readonly string[]; addresses: readonly string[]; since: Date; exceptCandidateId?: string | undefined },
): Promise<Array<Pick<MessageSentencesTable, 'message_id' | 'hash' | 'candidate_id' | 'company_id' | 'recipient_address' | 'sentence_count'>>> {
  if (scope.companyIds.length === 0 && scope.addresses.length === 0) return [];
  let query = db
    .selectFrom('message_sentences')
    .select(['message_id', 'hash', 'candidate_id', 'company_id', 'recipient_address', 'sentence_count'])
    .where('tenant_id', '=', tenantId)
    .where('created_at', '>=', scope.since);
  if (scope.exceptCandidateId !== undefined) query = query.where('candidate_id', '<>', scope.exceptCandidateId);
  return query
    .where((eb) =>
      eb.or([
        ...(scope.companyIds.length > 0 ? [eb('company_id', '=', anyId(scope.companyIds))] : []),
        ...(scope.addresses.length > 0 ? [eb('recipient_address', 'in', [...scope.addresses])] : []),
      ]),
    )
    .execute();
}

/** Every sentence of the tenant's letters sent since `since`, oldest first (one read for many batches). */
export async function findTenantSentencesSince(
  db: Kysely<Database>,
  tenantId: string,
  since: Date,
): Promise<Array<Pick<MessageSentencesTable, 'message_id' | 'hash' | 'candidate_id' | 'company_id' | 'recipient_address' | 'sentence_count'> & { created_at: Date }>> {
  return db
    .selectFrom('message_sentences')
    .select(['message_id', 'hash', 'candidate_id', 'company_id', 'recipient_address', 'sentence_count', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .where('created_at', '>=', since)
    .orderBy('created_at')
    .execute();
}
