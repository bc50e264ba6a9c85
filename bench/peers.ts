import { makeWorkerUtils, Logger as GraphileLogger, run as runGraphileWorker, type RunnerOptions, type Task } from 'graphile-worker';
import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { insertMessages } from '../src/db/messages.js';
import type { Channel } from '../src/domain/types.js';
import { composeStepMessage } from '../src/services/message-composer.js';
import { loadPlanContexts } from '../src/services/plan-context.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { drainDueSteps } from '../src/worker/tick.js';
import { type BenchDatabase, createBenchDatabase, measureInTurns, median, perSecond, ratioSpread, recordClosingRow, report, roundFigures, seedThankYouSteps } from './support.js';

// Issue 16, item 6: Afterview's due-step rate (steps evaluated per second by the worker's drain)
// beside graphile-worker, the job queue a partner might otherwise build on, over the same
// PostgreSQL in the same run. graphile-worker runs three ways: trivial jobs one at a time (its
// defaults), trivial jobs with its batching (a local queue and batched completions), and jobs
// whose task does our per-step work — read the plan, render and lint the message, insert its
// row, with our own src/services, src/domain and src/db functions — one at a time. Its tables
// live in a schema of their own in the bench's database, dropped with it.

const WORKER = loadConfig().worker;
const STEPS = Number(process.env.BENCH_PEER_STEPS ?? 2000);
const ROUNDS = Number(process.env.BENCH_PEER_ROUNDS ?? 3);
/** graphile-worker's jobs at once; its pool gets two connections more, as its docs advise. */
const PEER_CONCURRENCY = Number(process.env.BENCH_PEER_CONCURRENCY ?? 8);
const GRAPHILE_SCHEMA = 'graphile_worker_bench';
const log = pino({ level: 'silent' });
const quiet = new GraphileLogger(() => () => {});

type PeerMode = 'trivial' | 'trivial-batched' | 'our-work';

interface StepJob {
  tenantId: string;
  planId: string;
  stepId: string;
}

/** A fresh tenant's due thank-you steps, `STEPS` of them. */
async function seedRound(database: BenchDatabase, label: string): Promise<{ tenantId: string }> {
  const seeded = await seedThankYouSteps(database.db, { interviews: STEPS / 2, interviewersPerInterview: 2, dueAt: new Date(Date.now() - 1000), slug: `bench-${label}` });
  await sql`ANALYZE`.execute(database.db);
  return seeded;
}

/** This process's CPU time (user and system) over the last drain, per step, in µs. */
let lastDrainCpuUsPerStep = 0;

/** Afterview: the worker's drain over a fresh tenant's due steps. */
async function afterviewRound(database: BenchDatabase, spell: ReturnType<typeof createEnglishSpellChecker>, round: number): Promise<number> {
  await seedRound(database, `ours-${round}`);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // Steps of one plan claimed by two lanes at once wait for the next drain (issue 16, item 5):
  // drained again at once, as the next tick would, and timed until every step is evaluated.
  let evaluated = 0;
  for (let drains = 0; evaluated < STEPS && drains < 10; drains += 1) {
    evaluated += await drainDueSteps({ db: database.db, spell, clock: () => new Date(), log, settings: WORKER }, new AbortController().signal);
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  lastDrainCpuUsPerStep = (cpu.user + cpu.system) / Math.max(1, evaluated);
  if (evaluated !== STEPS) throw new Error(`the drain evaluated ${evaluated} of ${STEPS} steps`);
  return perSecond(evaluated, ms);
}

/** graphile-worker: adds the round's jobs in one statement to a running pool and times them all done. */
async function graphileRound(database: BenchDatabase, spell: ReturnType<typeof createEnglishSpellChecker>, mode: PeerMode, round: number): Promise<number> {
  let payloads: StepJob[];
  if (mode === 'our-work') {
    // The same due steps the drain would find, one job each (left scheduled: the drain never runs on them).
    const { tenantId } = await seedRound(database, `peer-${round}`);
    await sql`UPDATE follow_up_steps SET due_at = now() + interval '1 year' WHERE tenant_id = ${tenantId}`.execute(database.db);
    const { rows } = await sql<{ plan_id: string; id: string }>`SELECT plan_id, id FROM follow_up_steps WHERE tenant_id = ${tenantId}`.execute(database.db);
    payloads = rows.map((row) => ({ tenantId, planId: row.plan_id, stepId: row.id }));
  } else {
    payloads = Array.from({ length: STEPS }, (_, index) => ({ tenantId: '', planId: '', stepId: String(index) }));
  }
  const ourWork: Task = async (payload) => {
    const job = payload as StepJob;
    await database.db.transaction().execute(async (trx) => {
      const now = new Date();
      const context = (await loadPlanContexts(trx, job.tenantId, [job.planId])).get(job.planId)!;
      const step = context.steps.find((candidate) => candidate.id === job.stepId)!;
      const { row } = composeStepMessage(context, step, step.channel as Channel, spell, now);
      await insertMessages(trx, [{ ...row, status: 'queued', next_attempt_at: now }]);
    });
  };
  const batched = mode === 'trivial-batched';
  const preset: NonNullable<RunnerOptions['preset']> = batched ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } : {};
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const runner = await runGraphileWorker({
    connectionString: database.url,
    schema: GRAPHILE_SCHEMA,
    concurrency: PEER_CONCURRENCY,
    maxPoolSize: PEER_CONCURRENCY + 2,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: quiet,
    preset,
    taskList: { trivial: async () => {}, 'our-work': ourWork },
  });
  runner.events.on('job:success', () => {
    done += 1;
    if (done === payloads.length) finished();
  });
  runner.events.on('job:error', ({ error }) => {
    throw new Error(`graphile-worker job failed: ${String(error)}`);
  });
  const utils = await makeWorkerUtils({ connectionString: database.url, schema: GRAPHILE_SCHEMA, logger: quiet });
  try {
    const task = mode === 'our-work' ? 'our-work' : 'trivial';
    const started = performance.now();
    await utils.addJobs(payloads.map((payload) => ({ identifier: task, payload })));
    await allDone;
    const ms = performance.now() - started;
    return perSecond(payloads.length, ms);
  } finally {
    await runner.stop();
    await utils.release();
  }
}

export async function peersBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  const spell = createEnglishSpellChecker();
  try {
    const utils = await makeWorkerUtils({ connectionString: database.url, schema: GRAPHILE_SCHEMA, logger: quiet });
    await utils.migrate();
    await utils.release();
    // Warm-up, unmeasured: the dictionary, compiled code, both pools.
    await afterviewRound(database, spell, -1);
    await graphileRound(database, spell, 'our-work', -1);
    await graphileRound(database, spell, 'trivial', -1);

    const rounds = await measureInTurns(ROUNDS, {
      afterview: (round) => afterviewRound(database, spell, round),
      trivial: (round) => graphileRound(database, spell, 'trivial', round),
      trivialBatched: (round) => graphileRound(database, spell, 'trivial-batched', round),
      ourWork: (round) => graphileRound(database, spell, 'our-work', round),
    });
    const figures = (key: keyof (typeof rounds)[number]) => rounds.map((round) => round[key]);
    const ratiosTo = (key: keyof (typeof rounds)[number]) => rounds.map((round) => round.afterview / round[key]);
    report(`Afterview's due-step rate beside graphile-worker 0.17 (PostgreSQL, ${ROUNDS} rounds of ${STEPS}; drain: ${WORKER.batchSize} a batch, 4 lanes; graphile-worker: ${PEER_CONCURRENCY} at once)`, [
      ['Afterview: due steps evaluated, composed, linted and queued (steps/s)', roundFigures(figures('afterview'))],
      ['graphile-worker, trivial jobs, unbatched (jobs/s)', roundFigures(figures('trivial'))],
      ['graphile-worker, trivial jobs, batched (local queue 500, batched completion) (jobs/s)', roundFigures(figures('trivialBatched'))],
      ['graphile-worker, our per-step work, unbatched (jobs/s)', roundFigures(figures('ourWork'))],
      ['ratio to trivial unbatched (min / median / max)', ratioSpread(ratiosTo('trivial'))],
      ['ratio to trivial batched', ratioSpread(ratiosTo('trivialBatched'))],
      ['ratio to our work unbatched', ratioSpread(ratiosTo('ourWork'))],
      ['target', '≥ 1.5× graphile-worker doing our work unbatched'],
    ]);
    const ours = Math.round(median(figures('afterview')));
    const peers: Array<[keyof (typeof rounds)[number], string, string]> = [
      ['ourWork', 'graphile-worker 0.17, our per-step work, unbatched', '≥ 1.5×'],
      ['trivial', 'graphile-worker 0.17, trivial jobs, unbatched', 'reported'],
      ['trivialBatched', 'graphile-worker 0.17, trivial jobs, batched', 'reported'],
    ];
    for (const [key, against, target] of peers) {
      recordClosingRow({ measure: '6. due steps evaluated per second (drain)', against, ratios: ratiosTo(key), target, figures: `${ours} / ${Math.round(median(figures(key)))}` });
    }
  } finally {
    await database.drop();
  }
}

/**
 * Afterview's drain alone, round after round: what `--cpu-prof` profiles (see README's
 * benchmark section), and a quick before/after for changes to the per-step path.
 */
export async function drainBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  const spell = createEnglishSpellChecker();
  try {
    await afterviewRound(database, spell, -1);
    const rates: number[] = [];
    const cpu: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      rates.push(await afterviewRound(database, spell, round));
      cpu.push(Math.round(lastDrainCpuUsPerStep));
    }
    // On a shared machine the rate follows the neighbours' load; this process's CPU time per step
    // (PostgreSQL's work not included) is the steadier figure for a change to the per-step path.
    report(`Afterview's drain alone (PostgreSQL, ${ROUNDS} rounds of ${STEPS} due steps)`, [
      ['due steps evaluated per second', roundFigures(rates)],
      ['worker CPU time per step (µs, user + system)', roundFigures(cpu)],
    ]);
  } finally {
    await database.drop();
  }
}
