import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { createMailer } from '../src/mail/mailer.js';
import type { MessageRow } from '../src/db/schema.js';
import { dispatchDueMessages, outgoingMailOf } from '../src/services/message-dispatch.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { drainDueSteps } from '../src/worker/tick.js';
import { type BenchDatabase, createBenchDatabase, median, perSecond, recordClosingRow, report, seedThankYouSteps, startSmtpSinkProcess, type SmtpSinkProcess, waitUntil } from './support.js';

// Issue 4's benchmark, on PostgreSQL: how fast due steps are evaluated and queued (against a bare
// INSERT of the same message rows), and how fast the outbox is dispatched to a local SMTP server
// (against a raw nodemailer pool blast of the same messages to the same server). The host's
// other load drifts, so each measure and its baseline take turns over several rounds, a fresh
// tenant's steps each round, and the ratio is the median of the rounds' ratios.

// The worker's own settings (WORKER_BATCH_SIZE, WORKER_SEND_CONCURRENCY), as `npm run worker` would run.
const WORKER = loadConfig().worker;
const STEPS = Number(process.env.BENCH_STEPS ?? 2000);
const ROUNDS = Number(process.env.BENCH_DELIVERY_ROUNDS ?? 3);
const BATCH = WORKER.batchSize;
const CONCURRENCY = WORKER.sendConcurrency;
// The same pool for both senders: nodemailer's defaults, which the service uses too.
const POOL = { maxConnections: 5, maxMessages: 100 };
// For comparison: the narrowest handover window (WORKER_HANDOVER_WINDOW=1), one duplicate per crash at most.
const NARROW_WINDOW = 1;

const log = pino({ level: 'silent' });

async function messagesOf(database: BenchDatabase, tenantId: string): Promise<MessageRow[]> {
  return (await sql<MessageRow>`SELECT * FROM messages WHERE tenant_id = ${tenantId} ORDER BY id`.execute(database.db)).rows;
}

/** Evaluates a fresh tenant's due steps; then inserts the messages that came of it again, bare. */
async function evaluationRound(database: BenchDatabase, spell: ReturnType<typeof createEnglishSpellChecker>, round: number, steps = STEPS) {
  const { tenantId } = await seedThankYouSteps(database.db, { interviews: steps / 2, interviewersPerInterview: 2, dueAt: new Date(Date.now() - 1000), slug: `bench-${round < 0 ? 'warm-up' : round}` });
  await sql`ANALYZE`.execute(database.db);
  const started = performance.now();
  const evaluated = await drainDueSteps({ db: database.db, spell, clock: () => new Date(), log, settings: WORKER }, new AbortController().signal);
  const evaluationMs = performance.now() - started;

  const messages = await messagesOf(database, tenantId);
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
  return { tenantId, ours: perSecond(evaluated, evaluationMs), baseline: perSecond(messages.length, baselineMs) };
}

/** A raw nodemailer pool blast of one tenant's messages, then our dispatcher sending the same ones. */
async function dispatchRound(database: BenchDatabase, sink: SmtpSinkProcess, tenantId: string) {
  const messages = await messagesOf(database, tenantId);
  const transport = nodemailer.createTransport({ pool: true, url: sink.url, ...POOL });
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

  const dispatch = async (handoverWindow: number) => {
    // Only this tenant's messages are due (again): the dispatcher claims exactly the ones blasted.
    await sql`
      UPDATE messages SET status = 'queued', attempts = 0, accepted_at = NULL, sent_at = NULL, next_attempt_at = now()
      WHERE tenant_id = ${tenantId}`.execute(database.db);
    await sql`UPDATE follow_up_steps SET status = 'queued', sent_at = NULL WHERE tenant_id = ${tenantId} AND status = 'sent'`.execute(database.db);
    const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log, pool: POOL });
    const started = performance.now();
    const { sent } = await dispatchDueMessages(database.db, { mailer, clock: () => new Date(), log, batchSize: BATCH, leaseMs: WORKER.leaseMs, concurrency: CONCURRENCY, handoverWindow });
    const ms = performance.now() - started;
    await mailer.close();
    const received = await sink.count();
    await sink.reset();
    if (sent !== messages.length || received !== messages.length) throw new Error(`dispatch sent ${sent} and the server received ${received} of ${messages.length}`);
    return perSecond(sent, ms);
  };
  const baseline = perSecond(mails.length, blastMs);
  return { ours: await dispatch(WORKER.handoverWindow), narrow: await dispatch(NARROW_WINDOW), baseline };
}

function summary(rounds: Array<{ ours: number; baseline: number }>): { ours: string; baseline: string; ratio: string } {
  const list = (values: number[]) => `${median(values)} (rounds: ${values.join(', ')})`;
  return {
    ours: list(rounds.map((round) => round.ours)),
    baseline: list(rounds.map((round) => round.baseline)),
    ratio: `${(median(rounds.map((round) => round.ours / round.baseline)) * 100).toFixed(1)} %`,
  };
}

export async function deliveryBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  const sink = await startSmtpSinkProcess();
  const spell = createEnglishSpellChecker();
  try {
    await sql`CREATE TABLE messages_baseline (LIKE messages INCLUDING ALL)`.execute(database.db);
    // A long-running worker has its hot paths compiled: a small round of each warms them up, unmeasured.
    const warmUp = await evaluationRound(database, spell, -1, 1000);
    const evaluations = [];
    for (let round = 0; round < ROUNDS; round += 1) evaluations.push(await evaluationRound(database, spell, round));
    const evaluation = summary(evaluations);
    report(`Due steps evaluated and queued (PostgreSQL, ${ROUNDS} rounds of ${STEPS} steps, batches of ${BATCH})`, [
      ['evaluate + write (steps/s, median)', evaluation.ours],
      ['baseline: bare INSERT of the same rows (rows/s, median)', evaluation.baseline],
      ['ratio to baseline (median of rounds)', evaluation.ratio],
      ['target', '≥ 2,000 steps/s'],
    ]);
    recordClosingRow({
      measure: 'due steps evaluated and queued (steps/s)',
      against: 'bare INSERT of the same message rows',
      ratios: evaluations.map((round) => round.ours / round.baseline),
      target: '≥ 2,000 steps/s',
      figures: `${Math.round(median(evaluations.map((round) => round.ours)))} / ${Math.round(median(evaluations.map((round) => round.baseline)))}`,
    });

    // Every round's messages wait; each dispatch round makes one tenant's due, the warm-up's first.
    await sql`UPDATE messages SET next_attempt_at = now() + interval '1 day'`.execute(database.db);
    await dispatchRound(database, sink, warmUp.tenantId);
    const dispatches = [];
    for (const { tenantId } of evaluations) dispatches.push(await dispatchRound(database, sink, tenantId));
    const dispatch = summary(dispatches);
    const narrow = summary(dispatches.map((round) => ({ ours: round.narrow, baseline: round.baseline })));
    report(`Messages dispatched to a local SMTP server (PostgreSQL, ${ROUNDS} rounds of ${STEPS} messages, pool of ${POOL.maxConnections}, ${CONCURRENCY} in flight)`, [
      [`dispatch, handover window ${WORKER.handoverWindow} (messages/s, median)`, dispatch.ours],
      ['baseline: raw nodemailer pool blast (messages/s, median)', dispatch.baseline],
      ['ratio to baseline (median of rounds)', dispatch.ratio],
      [`dispatch, handover window ${NARROW_WINDOW} (messages/s, median)`, narrow.ours],
      [`ratio to baseline, window ${NARROW_WINDOW}`, narrow.ratio],
      ['target', '≥ 70 % of the raw blast'],
    ]);
    recordClosingRow({
      measure: `dispatch to a loopback SMTP server, window ${WORKER.handoverWindow} (msg/s)`,
      against: 'raw nodemailer pool blast',
      ratios: dispatches.map((round) => round.ours / round.baseline),
      target: '≥ 0.70×',
      figures: `${Math.round(median(dispatches.map((round) => round.ours)))} / ${Math.round(median(dispatches.map((round) => round.baseline)))}`,
    });
  } finally {
    await sink.stop();
    await database.drop();
  }
}
