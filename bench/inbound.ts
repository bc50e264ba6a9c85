import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { replyAddressFor, replyTokenKeys } from '../src/inbound/reply-token.js';
import { startInboundSmtp } from '../src/inbound/smtp-listener.js';
import { startInboundProcessor } from '../src/inbound/processor.js';
import { storeInboundMessage } from '../src/services/inbound-mail.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { drainDueSteps } from '../src/worker/tick.js';
import { type BenchDatabase, createBenchDatabase, median, perSecond, report, seedThankYouSteps, waitUntil } from './support.js';

// Issue 13's benchmark, on PostgreSQL: replies sent over SMTP into the inbound listener, each
// stored before its 250, then parsed, matched by its token, classified and applied (S1, webhook
// rows, a forward to the candidate), against a bare smtp-server that only counts what it
// receives, fed the same messages by the same client. Rounds alternate; the ratio is the median.

const MESSAGES = Number(process.env.BENCH_INBOUND_MESSAGES ?? 400);
const ROUNDS = Number(process.env.BENCH_INBOUND_ROUNDS ?? 3);
const CONNECTIONS = 5;
const DOMAIN = 'in.afterview.localhost';
const log = pino({ level: 'silent' });
const addressing = { domain: DOMAIN, keys: replyTokenKeys(['bench-inbound-token-secret']) };

function replyTo(address: string, i: number): Buffer {
  return Buffer.from(
    [
      `From: Grace Hopper <person-0-${i}@northwind.example>`,
      `To: ${address}`,
      `Subject: Re: Thank you for today's conversation`,
      `Message-ID: <bench-${i}-${Date.now()}@northwind.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Thank you, Ada. We are meeting on Thursday and will let you know by Friday.',
      '',
      'On Mon, Dec 7, 2026 at 5:00 PM Ada Lovelace wrote:',
      '> Dear Grace,',
      '> Thank you for taking the time to meet with me today.',
      '',
    ].join('\r\n'),
  );
}

async function blast(port: number, mails: Array<{ to: string; raw: Buffer }>): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: CONNECTIONS, maxMessages: Infinity });
  try {
    await Promise.all(mails.map((mail) => transport.sendMail({ envelope: { from: 'grace@northwind.example', to: [mail.to] }, raw: mail.raw })));
  } finally {
    transport.close();
  }
}

/** A fresh tenant with MESSAGES thank-yous queued, and a reply to each addressed by its token. */
async function repliesFor(database: BenchDatabase, spell: ReturnType<typeof createEnglishSpellChecker>, round: string) {
  await seedThankYouSteps(database.db, { interviews: MESSAGES, interviewersPerInterview: 1, dueAt: new Date(Date.now() - 1000), slug: `bench-inbound-${round}` });
  await drainDueSteps({ db: database.db, spell, clock: () => new Date(), log, settings: loadConfig().worker }, new AbortController().signal);
  const rows = (await sql<{ id: string }>`SELECT m.id FROM messages m JOIN tenants t ON t.tenant_id = m.tenant_id WHERE t.slug = ${`bench-inbound-${round}`}`.execute(database.db)).rows;
  return rows.map((row, i) => {
    const to = replyAddressFor(addressing, row.id);
    return { to, raw: replyTo(to, i) };
  });
}

async function serviceRound(database: BenchDatabase, spell: ReturnType<typeof createEnglishSpellChecker>, mails: Array<{ to: string; raw: Buffer }>) {
  const deps = { db: database.db, clock: () => new Date(), spell, addressing, log };
  const processor = startInboundProcessor(deps, { sweepMs: 60_000 });
  const listener = await startInboundSmtp({
    host: '127.0.0.1',
    port: 0,
    domain: DOMAIN,
    maxConnections: 100,
    log,
    store: async (message) => (await storeInboundMessage(database.db, { source: 'smtp', ...message }, new Date())).id!,
    onStored: () => processor.kick(),
  });
  const started = performance.now();
  await blast(listener.port, mails);
  const acceptedMs = performance.now() - started;
  await waitUntil(async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM inbound_messages WHERE status = 'received'`.execute(database.db)).rows[0]!.n) === 0, 600_000);
  await processor.idle();
  const appliedMs = performance.now() - started;
  await listener.close();
  await processor.stop();
  const statuses = (await sql<{ status: string; n: string }>`SELECT status, count(*) AS n FROM inbound_messages GROUP BY status`.execute(database.db)).rows;
  await sql`DELETE FROM inbound_messages`.execute(database.db);
  return { acceptedMs, appliedMs, statuses };
}

async function bareRound(mails: Array<{ to: string; raw: Buffer }>) {
  let received = 0;
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        received += 1;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const started = performance.now();
  await blast((server.server.address() as AddressInfo).port, mails);
  const ms = performance.now() - started;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (received !== mails.length) throw new Error(`bare server counted ${received} of ${mails.length}`);
  return ms;
}

export async function inboundBenchmark(): Promise<void> {
  const database = await createBenchDatabase();
  const spell = createEnglishSpellChecker();
  try {
    const rows: Array<[string, string | number]> = [];
    const ratios: number[] = [];
    const applied: number[] = [];
    const accepted: number[] = [];
    const bare: number[] = [];
    // A warm-up round of each, not counted.
    await bareRound(await repliesFor(database, spell, 'warm-up').then((mails) => mails.slice(0, 50)));
    for (let round = 0; round < ROUNDS; round++) {
      const mails = await repliesFor(database, spell, String(round));
      const bareMs = await bareRound(mails);
      const service = await serviceRound(database, spell, mails);
      const counts = Object.fromEntries(service.statuses.map((row) => [row.status, Number(row.n)]));
      if (counts.applied !== mails.length) throw new Error(`only ${JSON.stringify(counts)} of ${mails.length} applied`);
      bare.push(perSecond(mails.length, bareMs));
      accepted.push(perSecond(mails.length, service.acceptedMs));
      applied.push(perSecond(mails.length, service.appliedMs));
      ratios.push(perSecond(mails.length, service.appliedMs) / perSecond(mails.length, bareMs));
      rows.push([`round ${round + 1}`, `bare ${Math.round(bare.at(-1)!)} msg/s, stored+250 ${Math.round(accepted.at(-1)!)} msg/s, parsed+applied ${Math.round(applied.at(-1)!)} msg/s, applied/bare ${ratios.at(-1)!.toFixed(3)}`]);
    }
    rows.push(['messages per round', MESSAGES]);
    rows.push(['bare smtp-server (counts only), msg/s (median)', Math.round(median(bare))]);
    rows.push(['inbound listener, stored before 250, msg/s (median)', Math.round(median(accepted))]);
    rows.push(['inbound, parsed, matched and applied, msg/s (median)', Math.round(median(applied))]);
    rows.push(['applied / bare (min / median / max of rounds)', `${Math.min(...ratios).toFixed(3)} / ${median(ratios).toFixed(3)} / ${Math.max(...ratios).toFixed(3)}`]);
    report('Inbound mail: replies over SMTP, parsed and applied, vs a bare smtp-server', rows);
  } finally {
    await database.drop();
  }
}
