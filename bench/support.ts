import { type ChildProcess, fork } from 'node:child_process';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database } from '../src/db/schema.js';
import { DEFAULT_POLICY } from '../src/domain/policy-document.js';

// What the benchmarks share: a fresh PostgreSQL database, SQL seeding at scale, an SMTP sink
// in its own process, and a tidy way to print results.

export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase extends DatabaseHandle {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(poolSize = 20): Promise<BenchDatabase> {
  const name = `afterview_bench_${Date.now()}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), poolSize });
  await migrateToLatest(handle.db);
  return {
    ...handle,
    url: url.toString(),
    async drop() {
      await handle.close();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

// The defaults, with sends at any hour right after the interview: every seeded step is due now.
const SANDBOX_POLICY = { ...DEFAULT_POLICY, businessHours: 'always', thankYou: { ...DEFAULT_POLICY.thankYou, delayMinutes: 0 } };

export interface SeedOptions {
  interviews: number;
  interviewersPerInterview: number;
  /** When the thank-you steps fall due. */
  dueAt: Date;
  slug?: string;
}

/**
 * A tenant with `interviews` interviews and a thank-you step per interviewer, written in bulk
 * with generate_series (what the API would have stored, minus the per-request cost).
 */
export async function seedThankYouSteps(db: Kysely<Database>, options: SeedOptions): Promise<{ tenantId: string; steps: number }> {
  const { rows } = await sql<{ id: string }>`SELECT gen_random_uuid() AS id`.execute(db);
  const tenantId = rows[0]!.id;
  const slug = options.slug ?? `bench-${tenantId.slice(0, 8)}`;
  const endsAt = new Date(options.dueAt.getTime() - 60_000);
  await sql`INSERT INTO tenants (tenant_id, slug, name, sending_address) VALUES (${tenantId}, ${slug}, 'Bench Jobs', ${`${slug}@afterview.localhost`})`.execute(db);
  await sql`INSERT INTO policies (tenant_id, version, document, created_by) VALUES (${tenantId}, 1, ${JSON.stringify(SANDBOX_POLICY)}, 'bench')`.execute(db);
  await sql`
    INSERT INTO candidates (tenant_id, id, name, email, phone, consent, consent_at)
    VALUES (${tenantId}, gen_random_uuid(), 'Ada Lovelace', 'ada@example.com', '+14155550123', true, now())`.execute(db);
  await sql`INSERT INTO companies (tenant_id, id, name) VALUES (${tenantId}, gen_random_uuid(), 'Northwind Analytics')`.execute(db);
  await sql`
    INSERT INTO interviews (tenant_id, id, candidate_id, company_id, position_title, starts_at, ends_at, timezone, topics)
    SELECT ${tenantId}, gen_random_uuid(), c.id, co.id, 'Senior Data Engineer', ${new Date(endsAt.getTime() - 3_600_000)}, ${endsAt},
           'Europe/Berlin', '["streaming pipelines", "data contracts"]'::jsonb
    FROM generate_series(1, ${options.interviews}), candidates c, companies co
    WHERE c.tenant_id = ${tenantId} AND co.tenant_id = ${tenantId}`.execute(db);
  await sql`
    INSERT INTO interviewers (tenant_id, id, interview_id, position, name, email, is_primary_contact)
    SELECT i.tenant_id, gen_random_uuid(), i.id, p.pos,
           (ARRAY['Grace Hopper', 'Alan Turing', 'Barbara Liskov', 'Edsger Dijkstra', 'Frances Allen'])[1 + p.pos % 5],
           'person-' || p.pos || '-' || i.id || '@northwind.example', p.pos = 0
    FROM interviews i CROSS JOIN generate_series(0, ${options.interviewersPerInterview - 1}) AS p(pos)
    WHERE i.tenant_id = ${tenantId}`.execute(db);
  await sql`INSERT INTO follow_up_plans (tenant_id, id, interview_id) SELECT tenant_id, gen_random_uuid(), id FROM interviews WHERE tenant_id = ${tenantId}`.execute(db);
  const inserted = await sql`
    INSERT INTO follow_up_steps (tenant_id, id, plan_id, key, kind, channel, status, recipient_interviewer_id, recipient_name,
                                 recipient_email, recipient_timezone, due_at, window_ends_at, decisions)
    SELECT iv.tenant_id, gen_random_uuid(), p.id, 'thank_you:' || iv.id, 'thank_you', 'email', 'scheduled', iv.id, iv.name,
           iv.email, 'Europe/Berlin', ${options.dueAt}, ${new Date(options.dueAt.getTime() + 2 * 86_400_000)}, '[]'::jsonb
    FROM interviewers iv JOIN follow_up_plans p ON p.tenant_id = iv.tenant_id AND p.interview_id = iv.interview_id
    WHERE iv.tenant_id = ${tenantId}`.execute(db);
  return { tenantId, steps: Number(inserted.numAffectedRows ?? 0) };
}

export interface SmtpSinkProcess {
  url: string;
  count(): Promise<number>;
  /** The most messages answered within one second since the last reset. */
  busiestSecond(): Promise<number>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** `answerDelayMs`: how long the sink takes to answer each message's end (a real relay's latency). */
export async function startSmtpSinkProcess(options: { answerDelayMs?: number } = {}): Promise<SmtpSinkProcess> {
  const args = options.answerDelayMs ? [`--answer-delay-ms=${options.answerDelayMs}`] : [];
  const child: ChildProcess = fork(new URL('./smtp-sink-process.ts', import.meta.url).pathname, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const request = <T>(type: string, reply: string): Promise<T> =>
    new Promise((resolve) => {
      const listener = (message: { type: string } & T) => {
        if (message.type !== reply) return;
        child.off('message', listener);
        resolve(message);
      };
      child.on('message', listener);
      if (type) child.send({ type });
    });
  const { port } = await request<{ port: number }>('', 'ready');
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: async () => (await request<{ received: number }>('count', 'count')).received,
    busiestSecond: async () => (await request<{ most: number }>('busiest-second', 'busiest-second')).most,
    reset: async () => void child.send({ type: 'reset' }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function perSecond(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

export function report(title: string, rows: Array<[string, string | number]>): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
}

/**
 * Runs each measure once per round, reversing their order every other round, so the host's
 * drift and warm caches favour none of them. Returns each round's figures, by measure.
 */
export async function measureInTurns<K extends string>(rounds: number, measures: Record<K, (round: number) => Promise<number>>): Promise<Array<Record<K, number>>> {
  const names = Object.keys(measures) as K[];
  const results: Array<Record<K, number>> = [];
  for (let round = 0; round < rounds; round += 1) {
    const figures = {} as Record<K, number>;
    for (const name of round % 2 === 0 ? names : [...names].reverse()) figures[name] = await measures[name](round);
    results.push(figures);
  }
  return results;
}

/** One measure's figures over the rounds: the median and each round's, for a report line. */
export function roundFigures(values: number[]): string {
  return `${Math.round(median(values))} (rounds: ${values.join(', ')})`;
}

/** One line of the closing table: a measure against its baseline or peer, round by round. */
export interface ClosingRow {
  measure: string;
  against: string;
  /** Our figure divided by the baseline's (or peer's), one per round. */
  ratios: number[];
  target: string;
  /** Absolute figures (ours / theirs, medians), for the record. */
  figures?: string;
}

const closingRows: ClosingRow[] = [];

/** Keeps a measure for the table `npm run bench` prints at the end (and prints it now too). */
export function recordClosingRow(row: ClosingRow): void {
  closingRows.push(row);
}

export function ratioSpread(ratios: number[]): string {
  if (ratios.length === 0) return 'n/a';
  const format = (value: number) => `${value.toFixed(2)}×`;
  return `${format(Math.min(...ratios))} / ${format(median(ratios))} / ${format(Math.max(...ratios))}`;
}

/** The closing table: one line per measure, per-round ratios as min / median / max. */
export function printClosingTable(): void {
  if (closingRows.length === 0) return;
  const header = ['measure', 'baseline or peer', 'ratio per round (min / median / max)', 'target', 'figures (median, ours / theirs)'];
  const lines = closingRows.map((row) => [row.measure, row.against, ratioSpread(row.ratios), row.target, row.figures ?? '']);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log('\nClosing table (this run)');
  console.log(format(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}
