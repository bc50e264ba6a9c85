import { type ChildProcess, fork } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import type { Caller, ServiceContext } from '../src/services/context.js';
import { ALL_SCOPES } from '../src/services/context.js';
import { createCandidate } from '../src/services/candidates.js';
import { scheduleInterview } from '../src/services/interviews.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { createTenant } from '../src/services/tenants.js';
import { mintToken } from '../src/services/tokens.js';
import { createBenchDatabase, median, recordClosingRow, report } from './support.js';

// Issue 6's API benchmark, on PostgreSQL: a GraphQL page of 50 interviews with candidate,
// interviewers and plan steps, at 50 connections, against a hand-written fastify + pg route
// returning the same JSON, each server in its own process, measured in the same run.

const SECRET = 'bench-secret-long-enough-for-hs256';
const CONNECTIONS = Number(process.env.BENCH_API_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_API_SECONDS ?? 5);
// The host's other load drifts over seconds, so the two servers take turns, several rounds
// each, and each round's ratio is taken against the baseline's round beside it.
const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 4);

const PAGE_QUERY = `query Page($first: Int!) {
  interviews(first: $first) {
    edges { node {
      id positionTitle startsAt
      candidate { id name email }
      interviewers { id name email title }
      followUpPlan { id status steps { id kind status dueAt recipient { name email } } }
    } }
  }
}`;

async function startServer(mode: 'graphql' | 'baseline', databaseUrl: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = fork(new URL('./api-server.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, MODE: mode, DATABASE_URL: databaseUrl, JWT_SECRET: SECRET, NODE_ENV: 'production' },
  });
  const port = await new Promise<number>((resolve) => child.once('message', (message: { port: number }) => resolve(message.port)));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}

function load(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))));
}

interface Round {
  rps: number;
  p50: number;
  p99: number;
}

async function measure(name: string, options: autocannon.Options): Promise<Round> {
  const result = await load({ ...options, duration: DURATION_S });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}


export async function apiBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  try {
    const services: ServiceContext = { db: database.db, clock: () => new Date(), spell: createEnglishSpellChecker(), webhooks: { allowPrivate: false, requireHttps: false } };
    const tenant = await createTenant(database.db, { slug: 'api-bench', mailDomain: 'afterview.localhost' });
    const caller: Caller = { tenantId: tenant.id, sub: 'bench', scopes: new Set(ALL_SCOPES) };
    const start = new Date(Date.now() + 7 * 86_400_000);
    for (let i = 0; i < 60; i += 1) {
      const candidate = await createCandidate(services, caller, { name: `Candidate ${i}`, email: `candidate${i}@example.com`, consent: true });
      await scheduleInterview(services, caller, {
        candidateId: candidate.id,
        positionTitle: 'Senior Data Engineer',
        companyName: 'Northwind Analytics',
        startsAt: start,
        endsAt: new Date(start.getTime() + 3_600_000),
        timezone: 'Europe/Berlin',
        topics: ['streaming pipelines'],
        interviewers: [
          { name: 'Grace Hopper', email: `grace${i}@northwind.example`, title: 'Engineering Manager', isPrimaryContact: true },
          { name: 'Alan Turing', email: `alan${i}@northwind.example`, title: 'Staff Engineer' },
          { name: 'Barbara Liskov', email: `barbara${i}@northwind.example`, title: 'Principal Engineer' },
        ],
      });
    }
    await sql`ANALYZE`.execute(database.db);
    const token = mintToken(SECRET, { tenantId: tenant.id, sub: 'bench' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ query: PAGE_QUERY, variables: { first: 50 }, operationName: 'Page' });

    const graphql = await startServer('graphql', database.url);
    const baseline = await startServer('baseline', database.url);
    try {
      // Same answer from both, or the comparison means nothing.
      const fromGraphql = await (await fetch(`${graphql.url}/graphql`, { method: 'POST', headers, body })).json();
      const fromBaseline = await (await fetch(`${baseline.url}/baseline/interviews?first=50`, { headers })).json();
      if (!isDeepStrictEqual(fromGraphql, fromBaseline)) throw new Error('the GraphQL page and the baseline route answer differently');

      const ourOptions: autocannon.Options = { url: `${graphql.url}/graphql`, method: 'POST', headers, body, connections: CONNECTIONS };
      const baseOptions: autocannon.Options = { url: `${baseline.url}/baseline/interviews?first=50`, headers, connections: CONNECTIONS };
      // Warm-up: JIT, connection pools, plan caches.
      await load({ ...ourOptions, duration: 2 });
      await load({ ...baseOptions, duration: 2 });
      const ours: Round[] = [];
      const base: Round[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        ours.push(await measure('graphql', ourOptions));
        base.push(await measure('baseline', baseOptions));
      }
      const summary = (rounds: Round[]) =>
        `${Math.round(median(rounds.map((r) => r.rps)))} (rounds: ${rounds.map((r) => Math.round(r.rps)).join(', ')})`;
      const latency = (rounds: Round[]) => `${median(rounds.map((r) => r.p50))} / ${median(rounds.map((r) => r.p99))}`;
      report(`API: a page of 50 interviews with candidate, 3 interviewers and plan steps (PostgreSQL, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${DURATION_S} s)`, [
        ['GraphQL (requests/s, median)', summary(ours)],
        ['GraphQL latency p50 / p99 (ms, median of rounds)', latency(ours)],
        ['baseline: hand-written fastify + pg route (requests/s, median)', summary(base)],
        ['baseline latency p50 / p99 (ms, median of rounds)', latency(base)],
        ['ratio to baseline (median of per-round ratios)', `${(median(ours.map((r, i) => r.rps / base[i]!.rps)) * 100).toFixed(1)} %`],
        ['target', '≥ 60 % of the baseline, p99 < 50 ms'],
      ]);
      recordClosingRow({
        measure: 'API: GraphQL page of 50 interviews (requests/s)',
        against: 'hand-written fastify + pg route',
        ratios: ours.map((r, i) => r.rps / base[i]!.rps),
        target: '≥ 0.60×, p99 < 50 ms',
        figures: `${Math.round(median(ours.map((r) => r.rps)))} / ${Math.round(median(base.map((r) => r.rps)))}`,
      });
    } finally {
      await graphql.stop();
      await baseline.stop();
    }
  } finally {
    await database.drop();
  }
}
