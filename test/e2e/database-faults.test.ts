import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/schema.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { seedDueThankYous } from '../support/due-messages.js';
import { runCli, type ServiceProcess, serviceEnv, startService } from '../support/processes.js';
import { scratchPostgresAvailable, startScratchPostgres, type ScratchPostgres } from '../support/scratch-postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { eventually as poll, sleep } from '../support/eventually.js';

// The service as processes on PostgreSQL while the database misbehaves: backends terminated
// again and again, the server stopped for 20 s. Each case ends with every process alive, every
// request answered (200, or 503 / UNAVAILABLE while the database is away, never a 500 or a hang),
// nothing half-written, and every message arrived once (a lost acceptance record may repeat a
// message within the handover window, always under the same Message-ID).

const JWT_SECRET = 'a-database-faults-secret-long-enough';
const REQUEST_TIMEOUT_MS = 15_000;
/** The services run with the default WORKER_HANDOVER_WINDOW: the most one lost acceptance record may repeat. */
const DEFAULT_HANDOVER_WINDOW = loadConfig({}).worker.handoverWindow;

/** The service or its database may be away on purpose here: a check that throws means "not yet". */
const eventually = <T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string) => poll(check, timeoutMs, what, { tolerateErrors: true });

interface Answer {
  status: number;
  code?: string;
  ms: number;
}

/** One request, answered or not within the timeout: a hang is recorded as status 0. */
async function probe(url: string, init?: RequestInit): Promise<Answer & { body?: any }> {
  const started = Date.now();
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const code = body?.errors?.[0]?.extensions?.code ?? body?.error;
    return { status: response.status, code, ms: Date.now() - started, body };
  } catch {
    return { status: 0, ms: Date.now() - started };
  }
}

function scheduleRequest(url: string, token: string, candidateId: string, n: number): Promise<Answer & { body?: any }> {
  const ended = new Date(Date.now() - 60_000);
  return probe(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation ($input: ScheduleInterviewInput!) { scheduleInterview(input: $input) { id followUpPlan { id } } }',
      variables: {
        input: {
          candidateId,
          positionTitle: `Platform Engineer ${n}`,
          companyName: 'Contoso Freight',
          startsAt: new Date(ended.getTime() - 3_600_000).toISOString(),
          endsAt: ended.toISOString(),
          timezone: 'America/Chicago',
          interviewers: [{ name: `Panelist ${n}`, email: `panelist-${n}@contoso.example` }],
        },
      },
    }),
  });
}

async function createCandidateOver(url: string, token: string): Promise<string> {
  const answer = await probe(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation { createCandidate(input: { name: "Mae Jemison", email: "mae@example.com", consent: true }) { id } }' }),
  });
  return answer.body.data.createCandidate.id;
}

/** Every interview has its plan, its steps and its audit event: a cut transaction left no half. */
async function halfWrittenInterviews(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM interviews AS i
    WHERE NOT EXISTS (SELECT 1 FROM follow_up_plans AS p WHERE p.tenant_id = i.tenant_id AND p.interview_id = i.id)
       OR NOT EXISTS (SELECT 1 FROM follow_up_steps AS s JOIN follow_up_plans AS p ON p.id = s.plan_id AND p.tenant_id = s.tenant_id
                      WHERE p.tenant_id = i.tenant_id AND p.interview_id = i.id)
       OR NOT EXISTS (SELECT 1 FROM audit_events AS a WHERE a.tenant_id = i.tenant_id AND a.entity_id = i.id AND a.action = 'interview.scheduled')`.execute(db);
  return rows[0]!.n;
}

async function unsentMessages(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE status <> 'sent'`.execute(db);
  return rows[0]!.n;
}

function arrivalsByMessageId(sink: SmtpSink): Map<string, number> {
  const arrivals = new Map<string, number>();
  for (const message of sink.messages) arrivals.set(message.messageId!, (arrivals.get(message.messageId!) ?? 0) + 1);
  return arrivals;
}

function alive(service: ServiceProcess): boolean {
  return service.child.exitCode === null && service.child.signalCode === null;
}

const slowRelay = (ms: number) => async (event: { stage: string }) => {
  if (event.stage === 'data') await sleep(ms);
  return null;
};

describe.each(testDatabaseKinds().filter((kind) => kind === 'postgres'))('database faults on %s', (kind) => {
  const services: ServiceProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('backends terminated again and again during dispatch: api, worker and all-in-one stay up; answers are 200 or 503; nothing half-written; every message arrives', async () => {
    const database: TestDatabase = await openTestDatabase(kind);
    cleanups.push(() => database.close());
    const sink = await startSmtpSink({ respond: slowRelay(10) });
    cleanups.push(() => sink.close());
    await seedDueThankYous(database, 20, 10);
    const env = serviceEnv({ DATABASE_URL: database.url, JWT_SECRET, SMTP_URL: sink.url, WORKER_CRON: '* * * * * *', WORKER_LEASE_SECONDS: '5' });
    const created = runCli(['tenant', 'create', 'faults-a'], env);
    expect(created.status, created.stderr).toBe(0);
    const token = JSON.parse(created.stdout).token as string;

    const api = await startService(env, ['--mode=api']);
    const worker = await startService(env, ['--mode=worker']);
    const all = await startService(env);
    services.push(api, worker, all);
    const candidateId = await createCandidateOver(api.url, token);
    await eventually(async () => sink.messages.length >= 10, 60_000, 'dispatch under way');

    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    let terminated = 0;
    let running = true;
    const terminator = (async () => {
      while (running) {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name LIKE 'afterview-%' AND pid <> pg_backend_pid()`,
        );
        terminated += rows[0]!.n;
        await sleep(250);
      }
    })();
    const answers: Answer[] = [];
    const requests = (async () => {
      for (let n = 0; running; n += 1) {
        const target = n % 2 === 0 ? api : all;
        const [scheduled, ready] = await Promise.all([scheduleRequest(target.url, token, candidateId, n), probe(`${target.url}/readyz`)]);
        answers.push(scheduled, ready);
        await sleep(50);
      }
    })();
    await sleep(8_000);
    running = false;
    await Promise.all([terminator, requests]);
    await admin.end();

    expect(terminated).toBeGreaterThan(10);
    expect([api, worker, all].every(alive)).toBe(true);
    // Every request had an answer: success, or a clear 503 while its connection was cut.
    const statuses = new Map<string, number>();
    for (const answer of answers) statuses.set(`${answer.status} ${answer.code ?? ''}`.trim(), (statuses.get(`${answer.status} ${answer.code ?? ''}`.trim()) ?? 0) + 1);
    for (const key of statuses.keys()) expect(['200', '503 UNAVAILABLE', '503']).toContain(key);
    expect(statuses.get('200')).toBeGreaterThan(0);
    // A 503 from /readyz has no code; one from GraphQL always says UNAVAILABLE.
    expect(answers.filter((answer) => answer.status === 503 && answer.code && answer.code !== 'UNAVAILABLE')).toEqual([]);
    expect(await halfWrittenInterviews(database.db)).toBe(0);

    await eventually(async () => (await unsentMessages(database.db)) === 0, 180_000, 'every message sent');
    await sleep(1_000);
    const arrivals = arrivalsByMessageId(sink);
    expect(arrivals.size).toBe(200);
    const duplicates = [...arrivals.values()].reduce((sum, count) => sum + count - 1, 0);
    console.info(`[faults a] terminated ${terminated} backends; ${answers.length} requests: ${JSON.stringify(Object.fromEntries(statuses))}; 200 messages, ${sink.messages.length} arrivals, ${duplicates} duplicates`);
    // Each lost acceptance record can repeat at most what the handover window held (the default, one per pool connection).
    expect(duplicates).toBeLessThanOrEqual(terminated * DEFAULT_HANDOVER_WINDOW);
    expect([api, worker, all].every(alive)).toBe(true);
  }, 360_000);

  it.runIf(scratchPostgresAvailable())(
    'the database stopped for 20 s: the process stays up, answers 503 at once and /readyz 503 within 2 s, then resumes and sends every message',
    async () => {
      const server: ScratchPostgres = await startScratchPostgres();
      cleanups.push(() => server.destroy());
      const handle = await openDatabase({ url: server.url, poolSize: 2 });
      cleanups.push(() => handle.close());
      await migrateToLatest(handle.db);
      await seedDueThankYous(handle, 20, 10);
      const sink = await startSmtpSink({ respond: slowRelay(25) });
      cleanups.push(() => sink.close());
      const env = serviceEnv({ DATABASE_URL: server.url, JWT_SECRET, SMTP_URL: sink.url, WORKER_CRON: '* * * * * *', WORKER_LEASE_SECONDS: '5' });
      const created = runCli(['tenant', 'create', 'faults-b'], env);
      expect(created.status, created.stderr).toBe(0);
      const token = JSON.parse(created.stdout).token as string;
      const service = await startService(env);
      services.push(service);
      const candidateId = await createCandidateOver(service.url, token);
      await eventually(async () => sink.messages.length >= 20, 60_000, 'dispatch under way');

      server.stop();
      const stoppedAt = Date.now();
      const during: Array<Answer & { what: string }> = [];
      for (let n = 0; Date.now() - stoppedAt < 20_000; n += 1) {
        const [scheduled, ready] = await Promise.all([scheduleRequest(service.url, token, candidateId, n), probe(`${service.url}/readyz`)]);
        during.push({ ...scheduled, what: 'scheduleInterview' }, { ...ready, what: 'readyz' });
        await sleep(500);
      }
      expect(alive(service)).toBe(true);
      server.start();
      const restartedAt = Date.now();

      for (const answer of during) expect(answer.status, `${answer.what} during the outage`).toBe(503);
      expect(during.filter((answer) => answer.what === 'scheduleInterview').every((answer) => answer.code === 'UNAVAILABLE')).toBe(true);
      const slowestReady = Math.max(...during.filter((answer) => answer.what === 'readyz').map((answer) => answer.ms));
      const slowestRequest = Math.max(...during.filter((answer) => answer.what === 'scheduleInterview').map((answer) => answer.ms));

      await eventually(async () => (await probe(`${service.url}/readyz`)).status === 200, 30_000, 'ready again');
      const readyAfterMs = Date.now() - restartedAt;
      const afterwards = await scheduleRequest(service.url, token, candidateId, 1_000);
      expect(afterwards.status).toBe(200);
      await eventually(async () => (await unsentMessages(handle.db)) === 0, 90_000, 'every message sent');
      const drainedAfterMs = Date.now() - restartedAt;
      await sleep(1_000);
      const arrivals = arrivalsByMessageId(sink);
      expect(arrivals.size).toBe(200);
      const duplicates = [...arrivals.values()].reduce((sum, count) => sum + count - 1, 0);
      console.info(
        `[faults b] 20 s outage: ${during.length} requests, all 503 (slowest /readyz ${slowestReady} ms, slowest request ${slowestRequest} ms); ` +
          `ready ${readyAfterMs} ms after the restart, every message sent ${drainedAfterMs} ms after it; 200 messages, ${sink.messages.length} arrivals, ${duplicates} duplicates`,
      );
      // The outage can cut at most one handover window of unrecorded acceptances.
      expect(duplicates).toBeLessThanOrEqual(DEFAULT_HANDOVER_WINDOW);
      expect(await halfWrittenInterviews(handle.db)).toBe(0);
      expect(alive(service)).toBe(true);
      expect(service.output()).toContain('the worker pauses');
      expect(service.output()).toContain('the worker resumes');
    },
    240_000,
  );
});
