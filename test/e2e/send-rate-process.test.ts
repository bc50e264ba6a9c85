import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { seedDueThankYous } from '../support/due-messages.js';
import { type ServiceProcess, serviceEnv, startService } from '../support/processes.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

// SMTP_MAX_PER_SECOND is the relay's limit for the whole deployment, not for each process: three
// worker processes share it through PostgreSQL. The sink counts arrivals over every sliding
// second: the slots keep any second to the limit (src/services/send-rate.ts); the 10 % more that
// issue 16 allows is room for arrival jitter on a busy machine.

const LIMIT = 50;
const MESSAGES = 300;

/** The most arrivals in any one-second span [t, t + 1 s), t being an arrival. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start += 1) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + 1000) end += 1;
    most = Math.max(most, end - start);
  }
  return most;
}

// Several processes need PostgreSQL (PGlite is one process's database).
describe.each(testDatabaseKinds().filter((kind) => kind === 'postgres'))('a send rate shared by worker processes on %s', (kind) => {
  let database: TestDatabase;
  let sink: SmtpSink;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await sink?.close();
    await database?.close();
  });

  it(`3 worker processes with SMTP_MAX_PER_SECOND=${LIMIT}: no second at the relay sees more than ${Math.round(LIMIT * 1.1)}, and throttling costs no attempt`, async () => {
    const env = serviceEnv({
      DATABASE_URL: database.url,
      JWT_SECRET: 'an-end-to-end-secret-long-enough',
      SMTP_URL: sink.url,
      WORKER_CRON: '* * * * * *',
      SMTP_MAX_PER_SECOND: String(LIMIT),
    });
    for (let i = 0; i < 3; i += 1) workers.push(await startService(env, ['--mode=worker'], 60_000));
    await seedDueThankYous(database, MESSAGES / 5, 5);

    const messages = await sink.waitForMessages(MESSAGES, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(new Set(sink.messages.map((message) => message.messageId)).size).toBe(MESSAGES);
    expect(sink.messages).toHaveLength(MESSAGES);
    expect(busiestSecond(messages.map((message) => message.receivedAt.getTime()))).toBeLessThanOrEqual(LIMIT * 1.1);

    const { rows } = await sql<{ status: string; attempts: number; n: number }>`
      SELECT status, attempts, count(*)::int AS n FROM messages GROUP BY status, attempts`.execute(database.db);
    expect(rows).toEqual([{ status: 'sent', attempts: 1, n: MESSAGES }]);
    // The processes shared the work (and with it the limit).
    expect(workers.filter((worker) => /messages dispatched/.test(worker.output())).length).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
