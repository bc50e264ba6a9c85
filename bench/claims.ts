import { type Kysely, sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { claimDueSteps } from '../src/db/follow-up-plans.js';
import { claimDueMessages, findNextDueAt } from '../src/db/messages.js';
import type { Database } from '../src/db/schema.js';
import { claimDueDeliveries } from '../src/db/webhooks.js';
import { createMailer } from '../src/mail/mailer.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { workerLanes } from '../src/worker/tick.js';
import { startWorker } from '../src/worker/worker.js';
import { type BenchDatabase, createBenchDatabase, median, report, seedThankYouSteps, startSmtpSinkProcess, waitUntil } from './support.js';

// Issue 16, items 3 and 5, on PostgreSQL.
//
// 1. What an idle tick's claims cost (steps, abandoned and queued messages, webhooks, the mail
//    lane's look for the next due message) with 10, 10,000 and 100,000 tenants: the claims of
//    today, one walk over 64 tenant buckets, against the claims of before (one probe per
//    tenant, kept below as the baseline), in alternating rounds on the same database.
// 2. Fairness: tenant A with 20,000 due steps, tenant B with 20, due at the same instant; a
//    worker (its lanes on a one-second schedule) runs until B's messages are all with the relay.

const TENANT_COUNTS = (process.env.BENCH_CLAIM_TENANTS ?? '10,10000,100000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_CLAIM_ROUNDS ?? 5);
const TICKS_PER_ROUND = Number(process.env.BENCH_CLAIM_TICKS ?? 20);
const BIG_TENANT_STEPS = Number(process.env.BENCH_FAIRNESS_A ?? 20_000);
const SMALL_TENANT_STEPS = 20;

// The baseline: the claims as they were before the tenant buckets (a lateral probe per tenant).
// Their indexes are put back on the bench database for them (migration 0015 dropped them).
async function createBaselineIndexes(db: Kysely<Database>): Promise<void> {
  await sql`CREATE INDEX baseline_steps_due ON follow_up_steps (tenant_id, due_at) WHERE status = 'scheduled'`.execute(db);
  await sql`CREATE INDEX baseline_messages_due ON messages (tenant_id, next_attempt_at) WHERE status IN ('queued', 'retry', 'sending')`.execute(db);
  await sql`CREATE INDEX baseline_messages_leased ON messages (tenant_id, next_attempt_at) WHERE status = 'sending'`.execute(db);
  await sql`CREATE INDEX baseline_deliveries_due ON webhook_deliveries (tenant_id, next_attempt_at) WHERE status IN ('pending', 'delivering')`.execute(db);
}

async function baselineIdleTick(db: Kysely<Database>, now: Date, limit: number): Promise<void> {
  const lease = new Date(now.getTime() + 20_000);
  await sql`
    SELECT due.* FROM tenants AS t
    CROSS JOIN LATERAL (
      SELECT * FROM follow_up_steps WHERE tenant_id = t.tenant_id AND status = 'scheduled' AND due_at <= ${now}
      ORDER BY due_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ) AS due
    WHERE t.disabled_at IS NULL LIMIT ${limit}`.execute(db);
  for (const status of [sql`status = 'sending'`, sql`status IN ('queued', 'retry')`]) {
    await sql`
      UPDATE messages AS m SET status = 'sending', attempts = m.attempts + 1, next_attempt_at = ${lease}, updated_at = ${now}
      FROM (
        SELECT due.tenant_id, due.id FROM tenants AS t
        CROSS JOIN LATERAL (
          SELECT tenant_id, id FROM messages WHERE tenant_id = t.tenant_id AND ${status} AND next_attempt_at <= ${now}
          ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
        ) AS due
        WHERE t.disabled_at IS NULL LIMIT ${limit}
      ) AS claimed
      WHERE m.tenant_id = claimed.tenant_id AND m.id = claimed.id RETURNING m.*`.execute(db);
  }
  await sql`
    UPDATE webhook_deliveries AS d SET status = 'delivering', attempts = d.attempts + 1, next_attempt_at = ${lease}, updated_at = ${now}
    FROM (
      SELECT due.tenant_id, due.id FROM tenants AS t
      CROSS JOIN LATERAL (
        SELECT tenant_id, id FROM webhook_deliveries WHERE tenant_id = t.tenant_id AND status IN ('pending', 'delivering') AND next_attempt_at <= ${now}
        ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ) AS due
      WHERE t.disabled_at IS NULL LIMIT ${limit}
    ) AS claimed
    WHERE d.tenant_id = claimed.tenant_id AND d.id = claimed.id RETURNING d.*`.execute(db);
  await sql`
    SELECT min(due.next_attempt_at) FROM tenants AS t
    CROSS JOIN LATERAL (
      SELECT next_attempt_at FROM messages WHERE tenant_id = t.tenant_id AND status IN ('queued', 'retry', 'sending') AND next_attempt_at > ${now}
      ORDER BY next_attempt_at LIMIT 1
    ) AS due`.execute(db);
}

async function idleTick(db: Kysely<Database>, now: Date, limit: number): Promise<void> {
  await claimDueSteps(db, now, limit);
  await claimDueMessages(db, now, new Date(now.getTime() + 20_000), limit);
  await claimDueDeliveries(db, now, new Date(now.getTime() + 20_000), limit);
  await findNextDueAt(db, now);
}

async function msPerTick(tick: () => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < TICKS_PER_ROUND; i += 1) await tick();
  return (performance.now() - started) / TICKS_PER_ROUND;
}

async function addTenants(db: Kysely<Database>, count: number): Promise<void> {
  if (count <= 0) return;
  await sql`
    INSERT INTO tenants (tenant_id, slug, name, sending_address)
    SELECT id, 'idle-' || id, 'Idle Jobs', 'idle-' || id || '@afterview.localhost'
    FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, ${count})) AS fresh`.execute(db);
}

async function idleClaimCost(): Promise<void> {
  const database = await createBenchDatabase();
  try {
    await createBaselineIndexes(database.db);
    // Something stored (a few tenants' steps due next year), nothing due.
    for (let i = 0; i < 3; i += 1) {
      await seedThankYouSteps(database.db, { interviews: 1000, interviewersPerInterview: 2, dueAt: new Date(Date.now() + 365 * 86_400_000) });
    }
    const batch = loadConfig().worker.batchSize;
    const rows: Array<[string, string | number]> = [];
    let tenants = 3;
    for (const target of TENANT_COUNTS) {
      await addTenants(database.db, target - tenants);
      tenants = Math.max(tenants, target);
      await sql`VACUUM ANALYZE`.execute(database.db);
      const now = new Date();
      // Warm up both (plans cached, pages in memory).
      await msPerTick(() => idleTick(database.db, now, batch));
      await msPerTick(() => baselineIdleTick(database.db, now, batch));
      const ours: number[] = [];
      const before: number[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        before.push(await msPerTick(() => baselineIdleTick(database.db, now, batch)));
        ours.push(await msPerTick(() => idleTick(database.db, now, batch)));
      }
      const ratios = ours.map((ms, i) => before[i]! / ms);
      rows.push([
        `${target.toLocaleString('en')} tenants: bucket walk / per-tenant baseline (ms per idle tick, median)`,
        `${median(ours).toFixed(3)} / ${median(before).toFixed(3)}`,
      ]);
      rows.push([`  baseline ÷ ours per round`, ratios.map((ratio) => `${ratio.toFixed(1)}×`).join(' ')]);
    }
    rows.push(['target', 'the same cost at 10 and at 100,000 tenants']);
    report(`Idle tick's claims (steps, messages ×2, webhooks, next due), ${ROUNDS} alternating rounds of ${TICKS_PER_ROUND} ticks (PostgreSQL)`, rows);
  } finally {
    await database.drop();
  }
}

async function fairness(): Promise<void> {
  const sink = await startSmtpSinkProcess();
  const database: BenchDatabase = await createBenchDatabase();
  const log = pino({ level: 'silent' });
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
  try {
    const dueAt = new Date(Date.now() - 1000);
    const big = await seedThankYouSteps(database.db, { interviews: BIG_TENANT_STEPS / 5, interviewersPerInterview: 5, dueAt, slug: 'tenant-a' });
    const small = await seedThankYouSteps(database.db, { interviews: SMALL_TENANT_STEPS / 5, interviewersPerInterview: 5, dueAt, slug: 'tenant-b' });
    const { rows: buckets } = await sql<{ same: boolean }>`SELECT (uuid_hash(${big.tenantId}::uuid) & 63) = (uuid_hash(${small.tenantId}::uuid) & 63) AS same`.execute(database.db);
    await sql`VACUUM ANALYZE`.execute(database.db);
    const sent = async (tenantId: string) =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${tenantId} AND accepted_at IS NOT NULL`.execute(database.db)).rows[0]!.n;
    const started = performance.now();
    const worker = startWorker({
      schedule: '* * * * * *',
      log,
      lanes: workerLanes({
        db: database.db,
        mailer,
        spell: createEnglishSpellChecker(),
        clock: () => new Date(),
        log,
        settings: loadConfig().worker,
        webhooks: { allowPrivate: false, requireHttps: false },
      }),
    });
    let smallDoneMs = 0;
    let bigSentThen = 0;
    try {
      await waitUntil(async () => (await sent(small.tenantId)) === small.steps, 600_000);
      smallDoneMs = performance.now() - started;
      bigSentThen = await sent(big.tenantId);
      await waitUntil(async () => (await sent(big.tenantId)) === big.steps, 1_800_000);
    } finally {
      await worker.stop();
    }
    const allMs = performance.now() - started;
    report(`Fairness: tenant A ${big.steps.toLocaleString('en')} due steps, tenant B ${small.steps}, due at the same instant (PostgreSQL, default settings, 1 s schedule)`, [
      ["all of B's messages handed to the relay after (s)", (smallDoneMs / 1000).toFixed(2)],
      ["A's messages handed over by then", bigSentThen],
      ['all of A and B handed over after (s)', (allMs / 1000).toFixed(1)],
      ['A and B share a tenant bucket', buckets[0]!.same ? 'yes (1 in 64: B waits its turn in due order)' : 'no'],
      ['target', "B within 5 s while A drains at full speed"],
    ]);
  } finally {
    await mailer.close();
    await sink.stop();
    await database.drop();
  }
}

export async function claimsBenchmark(): Promise<void> {
  // BENCH_CLAIMS_PART=idle or =fairness runs one half.
  const part = process.env.BENCH_CLAIMS_PART;
  if (part !== 'fairness') await idleClaimCost();
  if (part !== 'idle') await fairness();
}
