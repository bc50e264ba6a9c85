import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { createMailer, DEFAULT_POOL_CONNECTIONS } from '../src/mail/mailer.js';
import type { MessageRow } from '../src/db/schema.js';
import { dispatchDueMessages, outgoingMailOf } from '../src/services/message-dispatch.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { drainDueSteps } from '../src/worker/tick.js';
import {
  type BenchDatabase,
  createBenchDatabase,
  measureInTurns,
  median,
  perSecond,
  ratioSpread,
  recordClosingRow,
  report,
  roundFigures,
  seedThankYouSteps,
  startSmtpSinkProcess,
  type SmtpSinkProcess,
  waitUntil,
} from './support.js';

// Issue 16, item 1: a relay that takes its time. The sink answers each message's end after
// RELAY_DELAY_MS, as SES or a company's Exchange does, and the dispatcher with its DEFAULT
// settings (WORKER_* as `npm run worker` reads them, the mailer's own pool) sends a tenant's
// messages to it; the baseline is a raw nodemailer pool with the same number of connections
// sending the same messages to the same sink. They take turns, round by round.

const WORKER = loadConfig().worker;
const RELAY_DELAY_MS = Number(process.env.BENCH_RELAY_DELAY_MS ?? 50);
const MESSAGES = Number(process.env.BENCH_RELAY_MESSAGES ?? 500);
const ROUNDS = Number(process.env.BENCH_RELAY_ROUNDS ?? 4);
const log = pino({ level: 'silent' });

export async function messagesOf(database: BenchDatabase, tenantId: string): Promise<MessageRow[]> {
  return (await sql<MessageRow>`SELECT * FROM messages WHERE tenant_id = ${tenantId} ORDER BY id`.execute(database.db)).rows;
}

/** Makes one tenant's messages due again (and only them), as if just written. */
export async function requeueMessages(database: BenchDatabase, tenantId: string): Promise<void> {
  await sql`UPDATE messages SET next_attempt_at = now() + interval '1 day' WHERE tenant_id <> ${tenantId} AND status IN ('queued', 'retry')`.execute(database.db);
  await sql`
    UPDATE messages SET status = 'queued', attempts = 0, accepted_at = NULL, sent_at = NULL, next_attempt_at = now()
    WHERE tenant_id = ${tenantId}`.execute(database.db);
  await sql`UPDATE follow_up_steps SET status = 'queued', sent_at = NULL WHERE tenant_id = ${tenantId} AND status = 'sent'`.execute(database.db);
}

/** The same messages through a raw nodemailer pool, `inFlight` sends at a time. */
export async function rawPoolBlast(sink: SmtpSinkProcess, messages: MessageRow[], connections: number, inFlight: number): Promise<number> {
  const transport = nodemailer.createTransport({ pool: true, url: sink.url, maxConnections: connections, maxMessages: 100 });
  const mails = messages.map((row) => {
    const mail = outgoingMailOf(row);
    return { messageId: mail.messageId, from: mail.from, replyTo: mail.replyTo, to: mail.to, subject: mail.subject, text: mail.text };
  });
  await sink.reset();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < mails.length) await transport.sendMail(mails[next++]!);
    }),
  );
  const ms = performance.now() - started;
  transport.close();
  await waitUntil(async () => (await sink.count()) >= mails.length, 30_000);
  return perSecond(mails.length, ms);
}

/** Our dispatcher with the worker's default settings and the mailer's default pool. */
async function defaultDispatch(database: BenchDatabase, sink: SmtpSinkProcess, tenantId: string, expected: number): Promise<number> {
  await requeueMessages(database, tenantId);
  await sink.reset();
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
  const started = performance.now();
  const { sent } = await dispatchDueMessages(database.db, {
    mailer,
    clock: () => new Date(),
    log,
    batchSize: WORKER.batchSize,
    leaseMs: WORKER.leaseMs,
    concurrency: WORKER.sendConcurrency,
    handoverWindow: WORKER.handoverWindow,
  });
  const ms = performance.now() - started;
  await mailer.close();
  const received = await sink.count();
  if (sent !== expected || received !== expected) throw new Error(`dispatch sent ${sent} and the sink received ${received} of ${expected}`);
  return perSecond(sent, ms);
}

export async function relayLatencyBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  const sink = await startSmtpSinkProcess({ answerDelayMs: RELAY_DELAY_MS });
  try {
    // One tenant's messages, written by the worker's own evaluation, sent again each round.
    const { tenantId } = await seedThankYouSteps(database.db, { interviews: MESSAGES / 2, interviewersPerInterview: 2, dueAt: new Date(Date.now() - 1000) });
    const spell = createEnglishSpellChecker();
    for (let drains = 0; drains < 10 && (await drainDueSteps({ db: database.db, spell, clock: () => new Date(), log, settings: WORKER }, new AbortController().signal)) > 0; drains += 1);
    const messages = await messagesOf(database, tenantId);
    if (messages.length !== MESSAGES) throw new Error(`expected ${MESSAGES} messages, the evaluation wrote ${messages.length}`);
    // Warm-up, unmeasured: connections, compiled code.
    await rawPoolBlast(sink, messages.slice(0, 50), DEFAULT_POOL_CONNECTIONS, WORKER.sendConcurrency);
    await defaultDispatch(database, sink, tenantId, MESSAGES);

    const rounds = await measureInTurns(ROUNDS, {
      ours: () => defaultDispatch(database, sink, tenantId, MESSAGES),
      raw: () => rawPoolBlast(sink, messages, DEFAULT_POOL_CONNECTIONS, WORKER.sendConcurrency),
    });
    const ratios = rounds.map((round) => round.ours / round.raw);
    const ours = rounds.map((round) => round.ours);
    const theirs = rounds.map((round) => round.raw);
    report(`Relay answering each message after ${RELAY_DELAY_MS} ms (PostgreSQL, ${ROUNDS} rounds of ${MESSAGES} messages, ${DEFAULT_POOL_CONNECTIONS} connections each)`, [
      [`dispatch, default settings (window ${WORKER.handoverWindow}, ${WORKER.sendConcurrency} in flight), messages/s`, roundFigures(ours)],
      ['baseline: raw nodemailer pool, messages/s', roundFigures(theirs)],
      ['ratio per round (min / median / max)', ratioSpread(ratios)],
      ['target', '≥ 0.80×'],
    ]);
    recordClosingRow({
      measure: `1. dispatch at ${RELAY_DELAY_MS} ms relay latency, default settings (msg/s)`,
      against: `raw nodemailer pool, ${DEFAULT_POOL_CONNECTIONS} connections`,
      ratios,
      target: '≥ 0.80×',
      figures: `${Math.round(median(ours))} / ${Math.round(median(theirs))}`,
    });
  } finally {
    await sink.stop();
    await database.drop();
  }
}
