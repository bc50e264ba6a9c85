import type { Kysely } from 'kysely';
import type { Database, SendingDomainRow } from './schema.js';

export type NewSendingDomain = Omit<SendingDomainRow, 'created_at' | 'updated_at'> & { now: Date };

/** Inserts the domain, or replaces its selector and key (a key rotation); created_at stays. */
export async function upsertSendingDomain(db: Kysely<Database>, row: NewSendingDomain): Promise<SendingDomainRow> {
  const { now, ...values } = row;
  return db
    .insertInto('sending_domains')
    .values({ ...values, created_at: now, updated_at: now })
    .onConflict((conflict) =>
      conflict.columns(['tenant_id', 'domain']).doUpdateSet({
        selector: values.selector,
        algorithm: values.algorithm,
        private_key_sealed: values.private_key_sealed,
        public_key_der: values.public_key_der,
        updated_at: now,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteSendingDomain(db: Kysely<Database>, tenantId: string, domain: string): Promise<SendingDomainRow | undefined> {
  return db.deleteFrom('sending_domains').where('tenant_id', '=', tenantId).where('domain', '=', domain).returningAll().executeTakeFirst();
}

export async function listSendingDomains(db: Kysely<Database>, tenantId: string): Promise<SendingDomainRow[]> {
  return db.selectFrom('sending_domains').selectAll().where('tenant_id', '=', tenantId).orderBy('domain').execute();
}

/** The tenant's keys for any of these domains (a From domain and its parents). */
export async function findSendingDomains(db: Kysely<Database>, tenantId: string, domains: readonly string[]): Promise<SendingDomainRow[]> {
  if (domains.length === 0) return [];
  return db.selectFrom('sending_domains').selectAll().where('tenant_id', '=', tenantId).where('domain', 'in', domains).execute();
}
