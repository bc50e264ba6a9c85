import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueSteps } from '../../src/db/follow-up-plans.js';
import { claimDueMessages } from '../../src/db/messages.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { drainDueSteps } from '../../src/worker/tick.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { seedDueThankYous } from '../support/due-messages.js';

// The order claims take work in (src/db/fair-claims.ts): one walk over what is due, dealt out
// round-robin by tenant; whole plans at a time for steps.

describe.each(testDatabaseKinds())('worker claims on %s', (kind) => {
  let database: TestDatabase;
  const spell = createEnglishSpellChecker();
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  const bucketOf = async (tenantId: string) =>
    (await sql<{ bucket: number }>`SELECT (uuid_hash(${tenantId}::uuid) & 63) AS bucket`.execute(database.db)).rows[0]!.bucket;
  /** A tenant with a few due thank-yous, outside `other`'s tenant bucket (two tenants in one bucket share its walk in due order). */
  const smallTenantBesides = async (other: string) => {
    for (;;) {
      const small = await seedDueThankYous(database, 1, 3);
      if ((await bucketOf(small.tenantId)) !== (await bucketOf(other))) return small;
      await sql`UPDATE follow_up_steps SET status = 'cancelled' WHERE tenant_id = ${small.tenantId}`.execute(database.db);
    }
  };
  const rolledBack = async <T>(work: (trx: typeof database.db) => Promise<T>): Promise<T> => {
    let result: T;
    await database.db
      .transaction()
      .execute(async (trx) => {
        result = await work(trx);
        throw new Error('rollback');
      })
      .catch((error: Error) => {
        if (error.message !== 'rollback') throw error;
      });
    return result!;
  };

  it("a tenant with a backlog does not hold back another's few: the first claim holds all of them, steps and then messages", async () => {
    const big = await seedDueThankYous(database, 30, 5);
    const small = await smallTenantBesides(big.tenantId);
    const now = new Date();

    // About 10 steps' worth, whole plans dealt in turn: the big tenant's first plan (its five
    // thank-yous), the small tenant's plan (three); a second plan of five would not fit.
    const steps = await rolledBack((trx) => claimDueSteps(trx, now, 10));
    expect(steps.plans).toBe(2);
    expect(steps.steps.filter((step) => step.tenant_id === small.tenantId)).toHaveLength(3);
    expect(steps.steps.filter((step) => step.tenant_id === big.tenantId)).toHaveLength(5);
    // However small the batch, a plan comes whole.
    expect((await rolledBack((trx) => claimDueSteps(trx, now, 1))).steps).toHaveLength(5);

    while ((await evaluateDueSteps(database.db, { now, batchSize: 50, spell })).plans > 0);
    const messages = await rolledBack((trx) => claimDueMessages(trx, now, new Date(now.getTime() + 20_000), 10));
    expect(messages).toHaveLength(10);
    expect(messages.filter((message) => message.tenant_id === small.tenantId)).toHaveLength(3);
    // Round-robin: the small tenant's three are among the first six handed out.
    expect(messages.slice(0, 6).filter((message) => message.tenant_id === small.tenantId)).toHaveLength(3);
    await sql`UPDATE messages SET status = 'cancelled' WHERE status = 'queued'`.execute(database.db);
  }, 120_000);

  it('one drain evaluates every due step, even with lanes claiming at once and plans split across batches', async () => {
    const { tenantId } = await seedDueThankYous(database, 40, 5);
    const dueBefore = await sql<{ n: number }>`SELECT count(*)::int AS n FROM follow_up_steps WHERE status = 'scheduled' AND due_at <= now()`.execute(database.db);
    const evaluated = await drainDueSteps(
      { db: database.db, spell, clock: () => new Date(), log, settings: { batchSize: 7, leaseMs: 20_000, sendConcurrency: 4, handoverWindow: 1 } },
      new AbortController().signal,
    );
    expect(evaluated).toBe(dueBefore.rows[0]!.n);
    expect(evaluated).toBeGreaterThanOrEqual(200);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM follow_up_steps WHERE tenant_id = ${tenantId} AND status = 'scheduled' AND due_at <= now()`.execute(database.db);
    expect(rows[0]!.n).toBe(0);
  }, 120_000);

  it("a disabled tenant's due work is passed over without holding back the tenants behind it", async () => {
    const disabled = await seedDueThankYous(database, 4, 5);
    await sql`UPDATE tenants SET disabled_at = now() WHERE tenant_id = ${disabled.tenantId}`.execute(database.db);
    const other = await seedDueThankYous(database, 1, 2);
    const steps = await rolledBack((trx) => claimDueSteps(trx, new Date(), 100));
    expect(steps.steps.map((step) => step.tenant_id)).toEqual([other.tenantId, other.tenantId]);
  }, 120_000);
});
