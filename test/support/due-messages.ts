import { type Kysely, sql } from 'kysely';
import type { Caller, ServiceContext } from '../../src/services/context.js';
import { ALL_SCOPES } from '../../src/services/context.js';
import { createCandidate } from '../../src/services/candidates.js';
import { scheduleInterview } from '../../src/services/interviews.js';
import { updatePolicy } from '../../src/services/policies.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { createTenant } from '../../src/services/tenants.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';

/** Many due thank-yous in one tenant, through the services (as a partner's API calls would make them). */
export async function seedDueThankYous(database: Pick<DatabaseHandle, 'db'>, interviews: number, perInterview: number): Promise<{ tenantId: string }> {
  const services: ServiceContext = { db: database.db, clock: () => new Date(), spell: createEnglishSpellChecker(), webhooks: { allowPrivate: true, requireHttps: false } };
  const tenant = await createTenant(database.db, { slug: `load-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, mailDomain: 'afterview.test' });
  const caller: Caller = { tenantId: tenant.id, sub: 'seed', scopes: new Set(ALL_SCOPES) };
  await updatePolicy(services, caller, { businessHours: 'always', thankYou: { delayMinutes: 0 } });
  const candidate = await createCandidate(services, caller, { name: 'Ada Lovelace', email: 'ada@example.com', consent: true });
  const ended = new Date(Date.now() - 60_000);
  for (let i = 0; i < interviews; i += 1) {
    await scheduleInterview(services, caller, {
      candidateId: candidate.id,
      positionTitle: 'Data Engineer',
      companyName: 'Northwind Analytics',
      startsAt: new Date(ended.getTime() - 3_600_000),
      endsAt: ended,
      timezone: 'Europe/Berlin',
      topics: ['data contracts'],
      interviewers: Array.from({ length: perInterview }, (_, j) => ({ name: `Interviewer ${i}-${j}`, email: `person-${i}-${j}@northwind.example` })),
    });
  }
  return { tenantId: tenant.id };
}

/**
 * Tests that share a database but each run their own clock: what an earlier test left pending
 * (queued messages, scheduled steps) is cancelled, so it cannot fall due in a later one.
 */
export async function cancelPendingWork(db: Kysely<Database>): Promise<void> {
  await sql`UPDATE messages SET status = 'cancelled' WHERE status IN ('queued', 'retry', 'sending', 'held')`.execute(db);
  await sql`UPDATE follow_up_steps SET status = 'cancelled' WHERE status IN ('scheduled', 'paused', 'awaiting_approval', 'needs_review', 'queued')`.execute(db);
}
