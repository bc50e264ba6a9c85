import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { seedDueThankYous } from '../support/due-messages.js';
import { runCli, type ServiceProcess, serviceEnv, startService } from '../support/processes.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { eventually } from '../support/eventually.js';

const JWT_SECRET = 'an-end-to-end-secret-long-enough';

async function graphql(url: string, token: string, query: string, variables?: object) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const PLAN = `query ($id: ID!) { interview(id: $id) { followUpPlan { steps { kind status reason recipient { email } } } } }`;

describe('follow-ups through the service as a process, with a real SMTP server', () => {
  let dataDir: string;
  let sink: SmtpSink;
  let service: ServiceProcess | undefined;
  let token: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'afterview-delivery-'));
    sink = await startSmtpSink({
      respond: (event) => (event.stage === 'rcpt' && event.address === 'bounce@northwind.example' ? { code: 550, message: '5.1.1 No such user' } : null),
    });
    const env = serviceEnv({ DATA_DIR: dataDir, JWT_SECRET, SMTP_URL: sink.url, WORKER_CRON: '* * * * * *', LOG_LEVEL: 'debug' });
    const created = runCli(['tenant', 'create', 'e2e-jobs', '--name', 'E2E Jobs'], env);
    expect(created.status, created.stderr).toBe(0);
    token = JSON.parse(created.stdout).token;
    service = await startService(env);
    await graphql(service.url, token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0 } }) { version } }`);
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
    await sink?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function interviewFor(consent: boolean, interviewers: object[]) {
    const { createCandidate: candidate } = await graphql(
      service!.url,
      token,
      `mutation ($c: Boolean!) { createCandidate(input: { name: "Ada Lovelace", email: "ada@example.com", phone: "+14155550123", consent: $c }) { id } }`,
      { c: consent },
    );
    const ended = new Date(Date.now() - 60_000);
    const { scheduleInterview: interview } = await graphql(
      service!.url,
      token,
      `mutation ($input: ScheduleInterviewInput!) { scheduleInterview(input: $input) { id } }`,
      {
        input: {
          candidateId: candidate.id,
          positionTitle: 'Site Reliability Engineer',
          companyName: 'Northwind Analytics',
          startsAt: new Date(ended.getTime() - 3_600_000).toISOString(),
          endsAt: ended.toISOString(),
          timezone: 'Europe/Berlin',
          topics: ['incident reviews', 'capacity planning'],
          interviewers,
        },
      },
    );
    return interview.id as string;
  }

  const steps = async (interviewId: string) => (await graphql(service!.url, token, PLAN, { id: interviewId })).interview.followUpPlan.steps;

  it('thank-yous arrive, one per interviewer, with the right headers; a reply then stops the check-ins', async () => {
    const interviewId = await interviewFor(true, [
      { name: 'Grace Hopper', email: 'grace@northwind.example', isPrimaryContact: true },
      { name: 'Alan Turing', email: 'alan@northwind.example' },
    ]);
    await eventually(async () => (await steps(interviewId)).filter((s: any) => s.kind === 'THANK_YOU' && s.status === 'SENT').length === 2, 30_000, 'two thank-yous sent');
    const mails = sink.messages.filter((m) => ['grace@northwind.example', 'alan@northwind.example'].includes(m.envelope.rcptTo[0]!));
    expect(mails.map((m) => m.envelope.rcptTo[0]).sort()).toEqual(['alan@northwind.example', 'grace@northwind.example']);
    for (const mail of mails) {
      expect(mail.headers.get('from')).toMatchObject({ value: [{ name: 'Ada Lovelace via E2E Jobs', address: 'e2e-jobs@afterview.localhost' }] });
      // Replies come back to the service (which forwards them to the candidate), bounces too.
      expect(mail.headers.get('reply-to')).toMatchObject({ value: [{ name: 'Ada Lovelace', address: expect.stringMatching(/^reply\+[0-9a-f]{48}@in\.afterview\.localhost$/) }] });
      expect(mail.envelope.mailFrom).toMatch(/^bounce\+[0-9a-f]{48}@in\.afterview\.localhost$/);
      expect(mail.subject).toContain('Site Reliability Engineer');
      expect(mail.messageId).toMatch(/^<[0-9a-f-]{36}@afterview\.localhost>$/);
    }

    await graphql(service!.url, token, `mutation ($id: ID!) { recordReply(input: { interviewId: $id, fromEmail: "grace@northwind.example" }) { id } }`, { id: interviewId });
    const after = await steps(interviewId);
    expect(after.filter((s: any) => s.kind.includes('CHECK_IN')).map((s: any) => [s.status, s.reason])).toEqual([
      ['CANCELLED', 'employer_replied'],
      ['CANCELLED', 'employer_replied'],
    ]);
  }, 60_000);

  it('an offer recorded before the thank-you still lets it go', async () => {
    const candidateFree = { name: 'Barbara Liskov', email: 'barbara@northwind.example' };
    const interviewId = await interviewFor(true, [candidateFree]);
    await graphql(service!.url, token, `mutation ($id: ID!) { recordOutcome(interviewId: $id, outcome: OFFER) { id } }`, { id: interviewId });
    await eventually(async () => sink.messages.some((m) => m.envelope.rcptTo[0] === 'barbara@northwind.example'), 30_000, 'the thank-you after an offer');
    const after = await steps(interviewId);
    expect(after.find((s: any) => s.kind === 'CHECK_IN')).toMatchObject({ status: 'CANCELLED', reason: 'outcome_offer' });
  }, 60_000);

  it('no consent, no message; a hard-bounced address is suppressed and gets nothing again', async () => {
    const noConsent = await interviewFor(false, [{ name: 'Edsger Dijkstra', email: 'edsger@northwind.example' }]);
    await eventually(async () => (await steps(noConsent)).find((s: any) => s.kind === 'THANK_YOU' && s.status === 'SKIPPED'), 30_000, 'the no-consent skip');
    expect((await steps(noConsent)).find((s: any) => s.kind === 'THANK_YOU').reason).toBe('no_consent');

    const bounced = await interviewFor(true, [{ name: 'Bounce Person', email: 'bounce@northwind.example' }]);
    await eventually(async () => (await steps(bounced)).find((s: any) => s.kind === 'THANK_YOU' && s.status === 'FAILED'), 30_000, 'the bounce');
    const again = await interviewFor(true, [{ name: 'Bounce Person', email: 'bounce@northwind.example' }]);
    await eventually(async () => (await steps(again)).find((s: any) => s.kind === 'THANK_YOU' && s.status === 'SKIPPED'), 30_000, 'the suppressed skip');
    expect((await steps(again)).find((s: any) => s.kind === 'THANK_YOU').reason).toBe('suppressed');
    expect(sink.messages.some((m) => m.envelope.rcptTo.includes('edsger@northwind.example'))).toBe(false);
    expect(sink.messages.filter((m) => m.envelope.rcptTo.includes('bounce@northwind.example'))).toHaveLength(0);
  }, 90_000);

  it('the logs of all of that carry no personal data', async () => {
    const logs = service!.output();
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).toContain('messages dispatched');
    const personal = [
      'Ada Lovelace',
      'Lovelace',
      'Grace Hopper',
      'Alan Turing',
      'Barbara Liskov',
      'Edsger Dijkstra',
      'Bounce Person',
      'ada@example.com',
      '@northwind.example',
      '+14155550123',
      '4155550123',
      'Thank you for taking the time',
      'Kind regards',
      'incident reviews',
    ];
    // Anything a message said, or a person's name or address, must appear in no log line.
    const sentText = sink.messages.flatMap((message) => message.text.split('\n').map((line) => line.trim()).filter((line) => line.length > 25));
    for (const value of [...personal, ...sentText]) expect(logs, `logs mention "${value}"`).not.toContain(value);
  });
});

function workerEnv(database: TestDatabase, sink: SmtpSink, extra: Record<string, string> = {}) {
  return serviceEnv({ DATABASE_URL: database.url, JWT_SECRET, SMTP_URL: sink.url, WORKER_CRON: '* * * * * *', ...extra });
}

// Concurrency needs several sessions: PostgreSQL only (always in CI).
describe.each(testDatabaseKinds().filter((kind) => kind === 'postgres'))('workers on %s', (kind) => {
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

  it('4 worker processes, 2,000 due messages: each arrives exactly once', async () => {
    await seedDueThankYous(database, 100, 20);
    for (let i = 0; i < 4; i += 1) workers.push(await startService(workerEnv(database, sink), ['--mode=worker']));
    await sink.waitForMessages(2000, 120_000);
    // Give any stray double a moment to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const ids = sink.messages.map((message) => message.messageId);
    expect(ids).toHaveLength(2000);
    expect(new Set(ids).size).toBe(2000);
    const { rows } = await sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM messages GROUP BY status`.execute(database.db);
    expect(rows).toEqual([{ status: 'sent', n: 2000 }]);
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  }, 180_000);
});
