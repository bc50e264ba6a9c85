import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { createMailer } from '../src/mail/mailer.js';
import type { MessageRow } from '../src/db/schema.js';
import { dispatchDueMessages, outgoingMailOf } from '../src/services/message-dispatch.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { drainDueSteps } from '../src/worker/tick.js';
import { createBenchDatabase, perSecond, report, seedThankYouSteps, startSmtpSinkProcess, waitUntil } from './support.js';

// Issue 4's benchmark, on PostgreSQL: how fast due steps are evaluated and queued (against a bare
// INSERT of the same message rows), and how fast the outbox is dispatched to a local SMTP server
// (against a raw nodemailer pool blast of the same messages to the same server).

// The worker's own settings (WORKER_BATCH_SIZE, WORKER_SEND_CONCURRENCY), as `npm run worker` would run.
const WORKER = loadConfig().worker;
const STEPS = Number(process.env.BENCH_STEPS ?? 5000);
const BATCH = WORKER.batchSize;
const CONCURRENCY = WORKER.sendConcurrency;

export async function deliveryBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  const sink = await startSmtpSinkProcess();
  const log = pino({ level: 'silent' });
  const spell = createEnglishSpellChecker();
  try {
    await seedThankYouSteps(database.db, { interviews: STEPS / 2, interviewersPerInterview: 2, dueAt: new Date(Date.now() - 1000) });
    await sql`ANALYZE`.execute(database.db);

    // 1. Evaluate and queue every due step.
    const evaluationStart = performance.now();
    const evaluated = await drainDueSteps({ db: database.db, spell, clock: () => new Date(), log, settings: WORKER }, new AbortController().signal);
    const evaluationMs = performance.now() - evaluationStart;

    // Baseline: the same message rows, inserted bare, in the same batch size.
    const messages = (await sql<MessageRow>`SELECT * FROM messages ORDER BY id`.execute(database.db)).rows;
    await sql`CREATE TABLE messages_baseline (LIKE messages INCLUDING ALL)`.execute(database.db);
    const baselineStart = performance.now();
    for (let i = 0; i < messages.length; i += BATCH) {
      const chunk = messages.slice(i, i + BATCH).map((row) => ({
        ...row,
        references_header: JSON.stringify(row.references_header),
        lint_findings: JSON.stringify(row.lint_findings),
      }));
      await database.db.insertInto('messages_baseline' as 'messages').values(chunk).execute();
    }
    const baselineMs = performance.now() - baselineStart;

    const evaluationRate = perSecond(evaluated, evaluationMs);
    const insertRate = perSecond(messages.length, baselineMs);
    report(`Due steps evaluated and queued (PostgreSQL, ${evaluated} steps, batches of ${BATCH})`, [
      ['evaluate + write (steps/s)', evaluationRate],
      ['baseline: bare INSERT of the same rows (rows/s)', insertRate],
      ['ratio to baseline', `${((evaluationRate / insertRate) * 100).toFixed(1)} %`],
      ['target', '≥ 2,000 steps/s'],
    ]);

    // 2. Baseline: a raw nodemailer pool blast of the same messages to the same server.
    const transport = nodemailer.createTransport({ pool: true, url: sink.url, maxConnections: 5, maxMessages: 100 });
    const mails = messages.map((row) => {
      const mail = outgoingMailOf(row);
      return { messageId: mail.messageId, from: mail.from, replyTo: mail.replyTo, to: mail.to, subject: mail.subject, text: mail.text };
    });
    const blastStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < mails.length) await transport.sendMail(mails[next++]!);
      }),
    );
    const blastMs = performance.now() - blastStart;
    transport.close();
    await waitUntil(async () => (await sink.count()) >= mails.length, 30_000);
    await sink.reset();

    // 3. Our dispatcher: claim, send through the pooled mailer, record each outcome.
    const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
    const dispatchStart = performance.now();
    let sent = 0;
    for (;;) {
      const batch = await dispatchDueMessages(database.db, { mailer, clock: () => new Date(), log, batchSize: BATCH, leaseMs: WORKER.leaseMs, concurrency: CONCURRENCY });
      sent += batch.sent;
      if (batch.claimed === 0) break;
    }
    const dispatchMs = performance.now() - dispatchStart;
    await mailer.close();
    const received = await sink.count();

    const blastRate = perSecond(mails.length, blastMs);
    const dispatchRate = perSecond(sent, dispatchMs);
    report(`Messages dispatched to a local SMTP server (PostgreSQL, ${sent} messages, pool of 5, ${CONCURRENCY} in flight)`, [
      ['dispatch (messages/s)', dispatchRate],
      ['baseline: raw nodemailer pool blast (messages/s)', blastRate],
      ['ratio to baseline', `${((dispatchRate / blastRate) * 100).toFixed(1)} %`],
      ['received by the server', received],
      ['target', '≥ 70 % of the raw blast'],
    ]);
  } finally {
    await sink.stop();
    await database.drop();
  }
}
