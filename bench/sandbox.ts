import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { type DatabaseHandle, openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { setTestClock } from '../src/db/tenants.js';
import { createCandidate } from '../src/services/candidates.js';
import type { Caller, ServiceContext } from '../src/services/context.js';
import { scheduleInterview } from '../src/services/interviews.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { servicesForCaller } from '../src/services/tenant-clock.js';
import { advanceTestClock } from '../src/services/test-clock.js';
import { createTenant } from '../src/services/tenants.js';
import { createBenchDatabase, median, report } from './support.js';

// Issue 15's number: advancing a sandbox with 1,000 interviews through 30 days, on the embedded
// database (what `npm start` uses) and on PostgreSQL. The baseline, in the same run and in
// alternating rounds, is the same advance over 100 interviews: the work should grow with the
// interviews, not faster. Each round seeds fresh sandboxes through the services (untimed).
// BENCH_SANDBOX_INTERVIEWS, BENCH_SANDBOX_ROUNDS and BENCH_SANDBOX_DATABASES (pglite, postgres) size it.

const INTERVIEWS = Number(process.env.BENCH_SANDBOX_INTERVIEWS ?? 1000);
const BASELINE_INTERVIEWS = INTERVIEWS / 10;
const ROUNDS = Number(process.env.BENCH_SANDBOX_ROUNDS ?? 3);
const DAY_MS = 86_400_000;
const START = new Date('2026-03-02T07:00:00Z'); // a Monday morning
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Europe/London'];

export async function seededSandbox(database: DatabaseHandle, interviews: number, outbox: string): Promise<{ ctx: ServiceContext; caller: Caller }> {
  const tenant = await createTenant(database.db, { slug: `bench-${interviews}-${Date.now()}`, mailDomain: 'afterview.bench', sandbox: true });
  await setTestClock(database.db, tenant.id, START);
  const base: ServiceContext = { db: database.db, clock: () => new Date(), spell: createEnglishSpellChecker(), webhooks: { allowPrivate: false, requireHttps: false }, sandboxOutboxDir: outbox };
  const caller: Caller = { tenantId: tenant.id, sub: 'bench', scopes: new Set(['followups:read', 'followups:write', 'policy:admin']) };
  const ctx = await servicesForCaller(base, caller);
  // Interviews over the first two weeks' business hours, an hour each, two interviewers each.
  for (let i = 0; i < interviews; i += 1) {
    const candidate = await createCandidate(ctx, caller, { name: `Candidate ${i}`, email: `candidate${i}@example.com`, timezone: 'Europe/London', consent: true });
    const day = Math.floor(i / (interviews / 10)); // ten business days
    const startsAt = new Date(START.getTime() + (Math.floor(day / 5) * 7 + (day % 5)) * DAY_MS + (i % 8) * 3_600_000);
    await scheduleInterview(ctx, caller, {
      candidateId: candidate.id,
      positionTitle: 'Data Engineer',
      companyName: `Company ${i % 20}`,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString(),
      timezone: ZONES[i % ZONES.length]!,
      decisionExpectedBy: new Date(startsAt.getTime() + 5 * DAY_MS).toISOString(),
      interviewers: [
        { name: 'Grace Hopper', email: `grace${i % 20}@company${i % 20}.example`, isPrimaryContact: true },
        { name: 'Alan Turing', email: `alan${i % 20}@company${i % 20}.example` },
      ],
    });
  }
  return { ctx, caller };
}

export async function timeAdvance(database: DatabaseHandle, interviews: number, outbox: string) {
  const { ctx, caller } = await seededSandbox(database, interviews, outbox);
  const started = performance.now();
  const result = await advanceTestClock(ctx, caller, new Date(START.getTime() + 30 * DAY_MS));
  return { ms: performance.now() - started, ...result };
}

async function benchOn(label: string, open: () => Promise<DatabaseHandle & { drop?: () => Promise<void> }>) {
  const outbox = fs.mkdtempSync(path.join(os.tmpdir(), 'afterview-bench-sandbox-'));
  const database = await open();
  try {
    await migrateToLatest(database.db);
    // A warm-up (code paths compiled, caches filled), then rounds that alternate the two sizes.
    await timeAdvance(database, Math.max(10, BASELINE_INTERVIEWS / 10), outbox);
    const baselines: number[] = [];
    const measured: number[] = [];
    let last: Awaited<ReturnType<typeof timeAdvance>> | undefined;
    for (let round = 1; round <= ROUNDS; round += 1) {
      const baseline = await timeAdvance(database, BASELINE_INTERVIEWS, outbox);
      last = await timeAdvance(database, INTERVIEWS, outbox);
      baselines.push(baseline.ms);
      measured.push(last.ms);
      console.log(
        `sandbox (${label}) round ${round}: ${BASELINE_INTERVIEWS} interviews ${Math.round(baseline.ms)} ms, ${INTERVIEWS} interviews ${Math.round(last.ms)} ms, ` +
          `ratio ${(last.ms / baseline.ms).toFixed(2)} (load ${os.loadavg()[0]!.toFixed(1)})`,
      );
    }
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM follow_up_steps WHERE status = 'scheduled'`.execute(database.db);
    report(`Sandbox: advance the test clock 30 days (${label}), median of ${ROUNDS} rounds`, [
      [`${BASELINE_INTERVIEWS} interviews (ms, baseline)`, Math.round(median(baselines))],
      [`${INTERVIEWS} interviews (ms)`, Math.round(median(measured))],
      ['ratio (median of the rounds\' ratios)', `${median(measured.map((ms, i) => ms / baselines[i]!)).toFixed(2)}× for ${INTERVIEWS / BASELINE_INTERVIEWS}× the interviews`],
      ['steps evaluated / messages kept (last round)', `${last!.stepsEvaluated} / ${last!.messagesSent}`],
      ['steps still scheduled after 30 days', rows[0]!.n],
      ['load average (1 min)', os.loadavg()[0]!.toFixed(1)],
      ['target', 'seconds, growing no faster than the interviews'],
    ]);
  } finally {
    if (database.drop) await database.drop();
    else await database.close();
    fs.rmSync(outbox, { recursive: true, force: true });
  }
}

export async function sandboxBenchmark(): Promise<void> {
  if (process.env.BENCH_SANDBOX_DATABASES !== 'postgres') await benchOn('embedded PGlite', () => openDatabase({ dataDir: 'memory://' }));
  if (process.env.BENCH_SANDBOX_DATABASES !== 'pglite') await benchOn('PostgreSQL', () => createBenchDatabase());
}
