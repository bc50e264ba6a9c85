import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Listening } from '../../src/db/database.js';
import { signalWorkDue, WORK_CHANNEL } from '../../src/db/work-signals.js';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { ALL_SCOPES, type Caller, type ServiceContext } from '../../src/services/context.js';
import { createCandidate } from '../../src/services/candidates.js';
import { scheduleInterview } from '../../src/services/interviews.js';
import { approveMessage } from '../../src/services/messages.js';
import { updatePolicy } from '../../src/services/policies.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createTenant } from '../../src/services/tenants.js';
import { workerLanes } from '../../src/worker/tick.js';
import { startWorker, type WorkerHandle } from '../../src/worker/worker.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

// Work an API call makes due now reaches the workers as a NOTIFY sent in the call's transaction
// (src/db/work-signals.ts); the worker runs the lane at once. The worker here is scheduled for
// New Year's midnight only: whatever it does during the test, a wake-up made it do.
const NEVER_DURING_THE_TEST = '0 0 0 1 1 *';

describe.each(testDatabaseKinds())('wake-ups on %s', (kind) => {
  let database: TestDatabase;
  let sink: SmtpSink;
  let mailer: Mailer;
  let outboxDir: string;
  const spell = createEnglishSpellChecker();
  const log = pino({ level: 'silent' });
  const listening: Listening[] = [];

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    sink = await startSmtpSink();
    outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'afterview-wake-'));
    mailer = createMailer({ smtpUrl: sink.url, outboxDir, log });
  });
  afterAll(async () => {
    await Promise.all(listening.map((listener) => listener.close()));
    await mailer?.close();
    await sink?.close();
    await database?.close();
    fs.rmSync(outboxDir, { recursive: true, force: true });
  });

  const listen = async (onPayload: (payload: string) => void) => {
    const listener = await database.listen(WORK_CHANNEL, onPayload);
    listening.push(listener);
    return listener;
  };

  /** A tenant sending at any hour, one candidate, and a way to schedule a panel of one person ending at a given time. */
  async function tenantWithCandidate(slug: string, thankYou: Record<string, unknown>) {
    const ctx: ServiceContext = { db: database.db, clock: () => new Date(), spell, webhooks: { allowPrivate: true, requireHttps: false } };
    const tenant = await createTenant(database.db, { slug: `${slug}-${kind}`, mailDomain: 'afterview.test' });
    const caller: Caller = { tenantId: tenant.id, sub: 'recruiter', scopes: new Set(ALL_SCOPES) };
    await updatePolicy(ctx, caller, { businessHours: 'always', thankYou: { delayMinutes: 0, ...thankYou } });
    const candidate = await createCandidate(ctx, caller, { name: 'Ada Lovelace', email: 'ada@example.com', consent: true });
    const interviewEndingAt = (ends: Date, interviewer: { name: string; email: string }) =>
      scheduleInterview(ctx, caller, {
        candidateId: candidate.id,
        positionTitle: 'Data Engineer',
        companyName: 'Northwind Analytics',
        startsAt: new Date(ends.getTime() - 3_600_000),
        endsAt: ends,
        timezone: 'Europe/Berlin',
        topics: ['data contracts'],
        interviewers: [interviewer],
      });
    return { ctx, caller, tenant, interviewEndingAt };
  }

  /** A worker that never ticks during the test, recording each lane run that ends. */
  function startWorkerWithoutTicks(ran: string[]): WorkerHandle {
    return startWorker({
      schedule: NEVER_DURING_THE_TEST,
      log,
      lanes: workerLanes({
        db: database.db,
        mailer,
        spell,
        clock: () => new Date(),
        log,
        settings: { batchSize: 100, leaseMs: 20_000, sendConcurrency: 4, handoverWindow: 1 },
        webhooks: { allowPrivate: true, requireHttps: false },
      }),
      onTickDone: (_ms, lane) => ran.push(lane),
    });
  }

  it('a signal reaches every listener when its transaction commits, and never when it rolls back', async () => {
    const first: string[] = [];
    const second: string[] = [];
    await listen((lane) => first.push(lane));
    await listen((lane) => second.push(lane));
    await database.db
      .transaction()
      .execute(async (trx) => {
        await signalWorkDue(trx, 'mail');
        throw new Error('rolled back');
      })
      .catch(() => {});
    await database.db.transaction().execute((trx) => signalWorkDue(trx, 'webhooks'));
    await eventually(async () => first.length > 0 && second.length > 0, 10_000, 'the committed signal');
    // Notifications arrive in commit order: the rolled-back one would have come first.
    expect(first).toEqual(['webhooks']);
    expect(second).toEqual(['webhooks']);
  });

  it("an approval wakes the worker's mail lane: the message goes without a tick", async () => {
    const { ctx, caller, tenant, interviewEndingAt } = await tenantWithCandidate('wake', { approval: 'review' });
    await interviewEndingAt(new Date(Date.now() - 60_000), { name: 'Grace Hopper', email: 'grace@northwind.example' });
    await evaluateDueSteps(database.db, { now: new Date(), batchSize: 100, spell });
    const { rows } = await sql<{ id: string }>`SELECT id FROM messages WHERE tenant_id = ${tenant.id} AND status = 'held'`.execute(database.db);
    expect(rows).toHaveLength(1);

    const ran: string[] = [];
    const worker = startWorkerWithoutTicks(ran);
    try {
      await listen((lane) => worker.wake(lane));
      await approveMessage(ctx, caller, rows[0]!.id, {});
      const [mail] = await sink.waitForMessages(1, 15_000);
      expect(mail!.envelope.rcptTo).toEqual(['grace@northwind.example']);
      // Only the woken lane ran (its run ends after the send is recorded).
      await eventually(async () => ran.includes('mail'), 10_000, 'the mail lane to finish its run');
      expect(ran).not.toContain('steps');
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('a step that falls due before the next tick is evaluated when it does: the steps lane sets itself an alarm', async () => {
    const { tenant, interviewEndingAt } = await tenantWithCandidate('alarm', {});
    // The interview ends in a few seconds; its thank-you falls due then.
    const ends = new Date(Date.now() + 3_000);
    await interviewEndingAt(ends, { name: 'Alan Turing', email: 'alan@northwind.example' });
    sink.reset();
    const ran: string[] = [];
    const worker = startWorkerWithoutTicks(ran);
    try {
      // One run, as at start-up, while nothing is due yet; no tick comes after it.
      worker.wake('steps');
      await eventually(async () => ran.includes('steps'), 10_000, 'the first run of the steps lane');
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${tenant.id}`.execute(database.db);
      expect(rows[0]!.n).toBe(0);
      const [mail] = await sink.waitForMessages(1, 20_000);
      expect(mail!.envelope.rcptTo).toEqual(['alan@northwind.example']);
      expect(mail!.receivedAt.getTime()).toBeGreaterThanOrEqual(ends.getTime());
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('planning a step due within the minute signals the steps lane; one due later does not', async () => {
    const { interviewEndingAt } = await tenantWithCandidate('plan-signal', {});
    const signals: string[] = [];
    await listen((lane) => signals.push(lane));
    const grace = { name: 'Grace Hopper', email: 'grace@northwind.example' };
    // Its thank-you falls due in two days: nothing to tell the workers yet.
    await interviewEndingAt(new Date(Date.now() + 2 * 86_400_000), grace);
    // A marker after it, in commit order: had the first signalled, its signal would come before.
    await database.db.transaction().execute((trx) => signalWorkDue(trx, 'webhooks'));
    await eventually(async () => signals.includes('webhooks'), 10_000, 'the marker');
    expect(signals).toEqual(['webhooks']);
    // This one's thank-you falls due in half a minute.
    await interviewEndingAt(new Date(Date.now() + 30_000), grace);
    await eventually(async () => signals.includes('steps'), 10_000, 'the steps signal');
    expect(signals).toEqual(['webhooks', 'steps']);
  });

  it('a lane woken while it runs runs once more when it finishes', async () => {
    let runs = 0;
    let release!: () => void;
    const firstRunHeld = new Promise<void>((resolve) => (release = resolve));
    const worker = startWorker({
      schedule: NEVER_DURING_THE_TEST,
      log,
      lanes: [
        {
          name: 'mail',
          run: async () => {
            runs += 1;
            if (runs === 1) await firstRunHeld;
          },
        },
      ],
    });
    try {
      worker.wake('mail');
      worker.wake('mail');
      worker.wake('mail');
      worker.wake('no-such-lane');
      release();
      await eventually(async () => runs === 2, 5_000, 'the second run');
    } finally {
      await worker.stop();
    }
    expect(runs).toBe(2);
  });
});
