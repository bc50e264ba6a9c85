import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { signalWorkDue } from '../src/db/work-signals.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { drainDueSteps } from '../src/worker/tick.js';
import { type ServiceProcess, serviceEnv, startService } from '../test/support/processes.js';
import { requeueMessages } from './relay-latency.js';
import { type BenchDatabase, createBenchDatabase, median, ratioSpread, recordClosingRow, report, seedThankYouSteps, startSmtpSinkProcess, type SmtpSinkProcess, waitUntil } from './support.js';

// Issue 16's benchmarks that need real worker processes (`npm run worker`, started from source
// as the end-to-end tests start them) on PostgreSQL, against the bench's SMTP sink:
//
// - promptness (item 4): steps fall due at 500 a second for a while; how long from each step's
//   due time until its message is handed to the relay (the p99 must stay under the tick interval
//   plus 1 s). Today's worker finds timed work at its next tick, so the tick shows here; a worker
//   woken another way shows that without a change to this bench.
// - rate-limit (item 2): three worker processes with SMTP_MAX_PER_SECOND=50 send a backlog; the
//   sink reports the busiest one-second window it saw (at most 55 is the target). The setting is
//   passed to every process; a worker that does not know it sends as fast as it can, and the
//   window shows that.

const log = pino({ level: 'silent' });
const STARTUP_TIMEOUT_MS = 120_000;

function workerEnv(database: BenchDatabase, sink: SmtpSinkProcess, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return serviceEnv({ DATABASE_URL: database.url, SMTP_URL: sink.url, LOG_LEVEL: 'warn', ...extra });
}

/** Starts worker processes side by side; each is up once it says its schedule is set. */
async function startWorkers(count: number, env: NodeJS.ProcessEnv): Promise<ServiceProcess[]> {
  // LOG_LEVEL=warn would hide the "worker scheduled" line startService waits for: info until up is cheap.
  return Promise.all(Array.from({ length: count }, () => startService({ ...env, LOG_LEVEL: 'info' }, ['--mode=worker'], STARTUP_TIMEOUT_MS)));
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

// ---------------------------------------------------------------------------------------------
// Item 4: from due time to handover

const DUE_PER_SECOND = Number(process.env.BENCH_PROMPT_DUE_PER_SECOND ?? 500);
const DUE_SECONDS = Number(process.env.BENCH_PROMPT_SECONDS ?? 10);
const PROMPT_ROUNDS = Number(process.env.BENCH_PROMPT_ROUNDS ?? 2);
/** The worker's default schedule (WORKER_CRON), every 15 s: the tick interval the target allows. */
const TICK_SECONDS = 15;

/** One round: a fresh tenant's steps fall due one after another at DUE_PER_SECOND; returns each one's wait, in ms. */
async function promptnessRound(database: BenchDatabase, round: number): Promise<number[]> {
  const total = DUE_PER_SECOND * DUE_SECONDS;
  const { tenantId } = await seedThankYouSteps(database.db, {
    interviews: total / 2,
    interviewersPerInterview: 2,
    dueAt: new Date(Date.now() + 365 * 86_400_000),
    slug: `bench-prompt-${round}`,
  });
  // Due times spaced evenly from a moment shortly ahead: the worker meets them as they come.
  const { rows } = await sql<{ id: string }>`SELECT id FROM follow_up_steps WHERE tenant_id = ${tenantId} ORDER BY id`.execute(database.db);
  const start = Date.now() + 2000;
  const dueAt = new Map(rows.map((row, index) => [row.id, start + Math.floor((index * 1000) / DUE_PER_SECOND)]));
  await sql`
    UPDATE follow_up_steps s SET due_at = d.due_at
    FROM unnest(${rows.map((row) => row.id)}::uuid[], ${rows.map((row) => new Date(dueAt.get(row.id)!).toISOString())}::timestamptz[]) AS d(id, due_at)
    WHERE s.tenant_id = ${tenantId} AND s.id = d.id`.execute(database.db);
  // Set by SQL for speed, the due times are announced as the API's planning announces steps due
  // within the minute (src/services/follow-up-plans.ts).
  await signalWorkDue(database.db, 'steps');
  const sent = async () => {
    const { rows: counted } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${tenantId} AND status = 'sent'`.execute(database.db);
    return counted[0]!.n >= total;
  };
  await waitUntil(sent, (DUE_SECONDS + 4 * TICK_SECONDS) * 1000 + 120_000);
  const { rows: handed } = await sql<{ step_id: string; accepted_at: Date }>`
    SELECT step_id, accepted_at FROM messages WHERE tenant_id = ${tenantId}`.execute(database.db);
  return handed.map((row) => row.accepted_at.getTime() - dueAt.get(row.step_id)!);
}

export async function promptnessBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  const sink = await startSmtpSinkProcess();
  let workers: ServiceProcess[] = [];
  try {
    workers = await startWorkers(1, workerEnv(database, sink));
    const p99s: number[] = [];
    const p50s: number[] = [];
    for (let round = 0; round < PROMPT_ROUNDS; round += 1) {
      const waits = await promptnessRound(database, round);
      p99s.push(percentile(waits, 0.99));
      p50s.push(percentile(waits, 0.5));
    }
    const allowedMs = (TICK_SECONDS + 1) * 1000;
    const seconds = (values: number[]) => `${(median(values) / 1000).toFixed(2)} s (rounds: ${values.map((value) => (value / 1000).toFixed(2)).join(', ')})`;
    report(`Due time to handover, one worker process (default settings, tick every ${TICK_SECONDS} s), ${DUE_PER_SECOND} steps falling due a second for ${DUE_SECONDS} s, ${PROMPT_ROUNDS} rounds`, [
      ['p50 wait', seconds(p50s)],
      ['p99 wait', seconds(p99s)],
      ['limit: tick interval + 1 s', `${allowedMs / 1000} s`],
      ['p99 / limit per round (min / median / max)', ratioSpread(p99s.map((p99) => p99 / allowedMs))],
    ]);
    recordClosingRow({
      measure: `4. p99 due time → handover at ${DUE_PER_SECOND} due steps/s`,
      against: `tick interval + 1 s (${allowedMs / 1000} s)`,
      ratios: p99s.map((p99) => p99 / allowedMs),
      target: '≤ 1.00×',
      figures: `p99 ${(median(p99s) / 1000).toFixed(2)} s / ${allowedMs / 1000} s`,
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await sink.stop();
    await database.drop();
  }
}

// ---------------------------------------------------------------------------------------------
// Item 2: a relay's rate limit, shared by every worker process

const RATE_LIMIT = Number(process.env.BENCH_RATE_LIMIT ?? 50);
const RATE_PROCESSES = 3;
const RATE_MESSAGES = Number(process.env.BENCH_RATE_MESSAGES ?? 500);
const RATE_ROUNDS = Number(process.env.BENCH_RATE_ROUNDS ?? 2);
/** The bound for a limit of 50: no second above 55 (a tenth over, for clocks and edges). */
const RATE_ALLOWED = Math.floor(RATE_LIMIT * 1.1);

export async function rateLimitBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  const sink = await startSmtpSinkProcess();
  let workers: ServiceProcess[] = [];
  try {
    // The backlog's messages, written by the worker's own evaluation here, waiting a day.
    const { tenantId } = await seedThankYouSteps(database.db, { interviews: RATE_MESSAGES / 2, interviewersPerInterview: 2, dueAt: new Date(Date.now() - 1000) });
    const spell = createEnglishSpellChecker();
    const settings = loadConfig().worker;
    for (let drains = 0; drains < 10 && (await drainDueSteps({ db: database.db, spell, clock: () => new Date(), log, settings }, new AbortController().signal)) > 0; drains += 1);
    await sql`UPDATE messages SET next_attempt_at = now() + interval '1 day' WHERE tenant_id = ${tenantId}`.execute(database.db);
    // Ticks every second, so each round's backlog is found at once by all three.
    workers = await startWorkers(RATE_PROCESSES, workerEnv(database, sink, { SMTP_MAX_PER_SECOND: String(RATE_LIMIT), WORKER_CRON: '* * * * * *' }));
    const busiest: number[] = [];
    const rates: number[] = [];
    for (let round = 0; round < RATE_ROUNDS; round += 1) {
      await sink.reset();
      const started = performance.now();
      await requeueMessages(database, tenantId);
      await waitUntil(async () => (await sink.count()) >= RATE_MESSAGES, Math.max(120_000, (RATE_MESSAGES / RATE_LIMIT) * 3000));
      rates.push(Math.round((RATE_MESSAGES / (performance.now() - started)) * 1000));
      busiest.push(await sink.busiestSecond());
      // Let the processes record the last acceptances before the next round makes everything due again.
      await waitUntil(async () => {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${tenantId} AND status = 'sent'`.execute(database.db);
        return rows[0]!.n >= RATE_MESSAGES;
      }, 60_000);
    }
    const limited = median(busiest) <= RATE_ALLOWED;
    report(`A relay's rate limit: ${RATE_PROCESSES} worker processes, SMTP_MAX_PER_SECOND=${RATE_LIMIT}, ${RATE_MESSAGES} messages, ${RATE_ROUNDS} rounds`, [
      ['busiest one-second window at the sink', `${median(busiest)} (rounds: ${busiest.join(', ')})${limited ? '' : ' — above what is allowed'}`],
      ['overall rate (messages/s)', `${median(rates)} (rounds: ${rates.join(', ')})`],
      ['allowed', `≤ ${RATE_ALLOWED} in any second`],
    ]);
    recordClosingRow({
      measure: `2. busiest second at the sink, ${RATE_PROCESSES} workers, limit ${RATE_LIMIT}/s`,
      against: `the limit (${RATE_LIMIT}/s)`,
      ratios: busiest.map((most) => most / RATE_LIMIT),
      target: `≤ ${(RATE_ALLOWED / RATE_LIMIT).toFixed(2)}× (${RATE_ALLOWED} in a second)`,
      figures: `${median(busiest)} / ${RATE_LIMIT}`,
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await sink.stop();
    await database.drop();
  }
}
