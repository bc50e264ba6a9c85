import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { runWorkerTick } from '../../src/worker/tick.js';
import { startWorker } from '../../src/worker/worker.js';
import { createCandidateVia, createTestTenant, gql, scheduleInterviewVia, TEST_JWT_SECRET } from '../support/app.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text
    .split('\n')
    .find((row) => row.startsWith(`${name}{`) || row.startsWith(`${name} `) ? wanted.every((label) => row.includes(label)) : false);
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('metrics at /metrics', () => {
  let database: TestDatabase;
  let metrics: Metrics;
  let sink: SmtpSink;
  let mailer: Mailer;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    metrics = createMetrics(database.db);
    sink = await startSmtpSink({ respond: (event) => (event.stage === 'rcpt' && event.address?.startsWith('alan') ? { code: 451, message: 'later' } : null) });
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await mailer?.close();
    await sink?.close();
    await database?.close();
  });

  it('exposes HTTP, GraphQL, worker, backlog and process metrics', async () => {
    const app = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false, metrics });
    const tenant = await createTestTenant(database.db);
    await gql(app, tenant.token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0 } }) { version } }`);
    const candidateId = await createCandidateVia(app, tenant.token);
    const ended = new Date(Date.now() - 60_000);
    await scheduleInterviewVia(app, tenant.token, candidateId, { startsAt: new Date(ended.getTime() - 3_600_000).toISOString(), endsAt: ended.toISOString() });
    await gql(app, tenant.token, `{ candidate(id: "01a20000-0000-7000-8000-000000000000") { id } }`);

    const before = await (await app.inject('/metrics')).body;
    expect(sample(before, 'afterview_due_steps')).toBe(2);

    const deps = {
      db: database.db,
      mailer,
      spell: createEnglishSpellChecker(),
      clock: () => new Date(),
      log: pino({ level: 'silent' }),
      settings: { batchSize: 50, leaseMs: 60_000, sendConcurrency: 2, handoverWindow: 1 },
      webhooks: { allowPrivate: true, requireHttps: false },
      metrics,
    };
    await runWorkerTick(deps, new AbortController().signal);

    const response = await app.inject('/metrics');
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    expect(sample(text, 'afterview_http_request_duration_seconds_count', { route: '/graphql', method: 'POST', status_code: '200' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'afterview_graphql_operations_total', { operation: 'mutation', field: 'scheduleInterview' })).toBe(1);
    expect(sample(text, 'afterview_graphql_errors_total', { code: 'NOT_FOUND' })).toBe(1);
    expect(sample(text, 'afterview_steps_evaluated_total', { decision: 'send' })).toBe(2);
    expect(sample(text, 'afterview_mail_send_results_total', { result: 'sent' })).toBe(1);
    expect(sample(text, 'afterview_mail_send_results_total', { result: 'transient' })).toBe(1);
    expect(sample(text, 'afterview_due_steps')).toBe(0);
    expect(sample(text, 'afterview_outbox_messages', { status: 'retry' })).toBe(1);
    expect(sample(text, 'afterview_webhook_deliveries_pending')).toBe(0);
    expect(text).toContain('afterview_process_cpu_user_seconds_total');
    expect(text).toContain('afterview_nodejs_eventloop_lag_seconds');
    // Labels are routes and codes: no ids, no addresses.
    expect(text).not.toMatch(/@|[0-9a-f]{8}-[0-9a-f]{4}-/);
    await app.close();
  });

  it('times each worker tick', async () => {
    const worker = startWorker({
      schedule: '* * * * * *',
      log: pino({ level: 'silent' }),
      tick: async () => {},
      onTickDone: (ms) => metrics.workerTickDuration.observe(ms / 1000),
    });
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    await worker.stop();
    const text = await metrics.registry.metrics();
    expect(sample(text, 'afterview_worker_tick_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  });
});
