import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { type AddressObject, simpleParser } from 'mailparser';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { classifySmtpError, createMailer, type Mailer, MailerVerifyError, type OutgoingMail, type SendOutcome, toNodemailerOptions } from '../../src/mail/mailer.js';
import { type SmtpSink, type SmtpSinkOptions, startSmtpSink } from '../support/smtp-sink.js';

// The mail module against a real SMTP server on loopback (and the real filesystem for the .eml
// outbox): what arrives is parsed back with mailparser and compared field by field.

const FROM = { name: 'Ada Lovelace via Acme Jobs', address: 'acme@afterview.localhost' };
const REPLY_TO = { name: 'Ada Lovelace', address: 'ada.lovelace@candidates.example' };
const TO = { name: 'Élodie Marchand', address: 'elodie.marchand@acme.example' };
const SUBJECT = 'Merci pour l’entretien — Élodie';
const BODY = 'Bonjour Élodie,\n\nMerci pour notre échange sur le poste de développeuse. Ça m’a fait très plaisir.\n\nAda';

let counter = 0;
function newMessageId(): string {
  counter += 1;
  return `<0192f1c2-7a3b-7c00-8000-${String(counter).padStart(12, '0')}@mail.acme.example>`;
}

function outgoing(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    messageId: newMessageId(),
    from: FROM,
    replyTo: REPLY_TO,
    to: TO,
    subject: SUBJECT,
    text: BODY,
    inReplyTo: '<0192f1c2-0000-7000-8000-thankyou0001@mail.acme.example>',
    references: ['<0192f1c2-0000-7000-8000-thankyou0001@mail.acme.example>', '<0192f1c2-0000-7000-8000-checkin00001@mail.acme.example>'],
    headers: { 'X-Afterview-Message': '0192f1c2-7a3b-7c00-8000-00000000abcd' },
    ...overrides,
  };
}

function memoryLogger() {
  let output = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      output += String(chunk);
      callback();
    },
  });
  return { log: pino({ level: 'debug' }, stream), output: () => output, lines: () => output.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

function first(value: AddressObject | AddressObject[] | undefined) {
  const object = Array.isArray(value) ? value[0] : value;
  return object?.value.map((entry) => ({ name: entry.name, address: entry.address }));
}

/** A port nothing listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function expectFailed(outcome: SendOutcome): Extract<SendOutcome, { status: 'failed' }> {
  expect(outcome.status).toBe('failed');
  if (outcome.status !== 'failed') throw new Error('unreachable');
  return outcome;
}

const PERSONAL_VALUES = [FROM.name, FROM.address, REPLY_TO.name, REPLY_TO.address, TO.name, TO.address, 'Élodie', 'Marchand', 'lovelace', 'acme.example', 'Merci', 'Bonjour', 'entretien'];

function expectNoPersonalData(logOutput: string): void {
  for (const value of PERSONAL_VALUES) expect(logOutput.toLowerCase()).not.toContain(value.toLowerCase());
  expect(logOutput).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.-]+/);
}

describe('mailer', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  let tmp: string;

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'afterview-mailer-'));
  });
  afterEach(async () => {
    // Mailers before sinks: the pool says goodbye before the server goes away.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  async function sink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const started = await startSmtpSink(options);
    cleanups.push(() => started.close());
    return started;
  }

  function mailer(smtpUrl: string | undefined, extra: { pool?: { maxConnections?: number; maxMessages?: number }; sendTimeoutMs?: number } = {}) {
    const logger = memoryLogger();
    const created = createMailer({ smtpUrl, outboxDir: path.join(tmp, 'outbox'), log: logger.log, ...extra });
    cleanups.push(() => created.close());
    return { mailer: created, ...logger };
  }

  describe('over SMTP', () => {
    it('delivers the message with exactly the headers, envelope and UTF-8 body it was given', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url);
      const mail = outgoing();

      const outcome = await smtp.send(mail);

      expect(smtp.kind).toBe('smtp');
      expect(outcome).toEqual({ status: 'sent', response: expect.stringMatching(/^250 /) });
      expect(server.messages).toHaveLength(1);
      const received = server.messages[0]!;
      expect(received.envelope).toEqual({ mailFrom: FROM.address, rcptTo: [TO.address] });
      expect(first(received.parsed.from)).toEqual([FROM]);
      expect(first(received.parsed.replyTo)).toEqual([REPLY_TO]);
      expect(first(received.parsed.to)).toEqual([TO]);
      expect(received.headerLines.find((line) => line.key === 'from')?.line).toBe('From: Ada Lovelace via Acme Jobs <acme@afterview.localhost>');
      expect(received.subject).toBe(SUBJECT);
      expect(received.messageId).toBe(mail.messageId);
      expect(received.parsed.inReplyTo).toBe(mail.inReplyTo);
      expect(received.parsed.references).toEqual(mail.references);
      expect(received.headers.get('x-afterview-message')).toBe('0192f1c2-7a3b-7c00-8000-00000000abcd');
      expect(received.text.trimEnd()).toBe(BODY);
      expect(received.parsed.html).toBe(false);
      expect(received.parsed.attachments).toHaveLength(0);
      expect(received.headers.get('content-type')).toMatchObject({ value: 'text/plain', params: { charset: 'utf-8' } });
      expect(received.headers.has('cc')).toBe(false);
      expect(received.headers.has('bcc')).toBe(false);
    });

    it('leaves out In-Reply-To and References when not given', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url);

      await smtp.send(outgoing({ inReplyTo: null, references: [], headers: {} }));

      const received = server.messages[0]!;
      expect(received.headers.has('in-reply-to')).toBe(false);
      expect(received.headers.has('references')).toBe(false);
      expect(received.headers.has('x-afterview-message')).toBe(false);
    });

    it('reports a 451 on RCPT as transient, and the retry goes through', async () => {
      const server = await sink({ respond: ({ stage, ordinal }) => (stage === 'rcpt' && ordinal === 1 ? { code: 451, message: '4.3.0 Mailbox temporarily unavailable' } : null) });
      const { mailer: smtp } = mailer(server.url);
      const mail = outgoing();

      const firstTry = expectFailed(await smtp.send(mail));
      expect(firstTry).toMatchObject({ failureClass: 'transient', code: 'EENVELOPE:451', hardBounce: false });
      expect(firstTry.detail).toContain('451 4.3.0 Mailbox temporarily unavailable');
      expect(server.messages).toHaveLength(0);

      const secondTry = await smtp.send(mail);
      expect(secondTry.status).toBe('sent');
      expect(server.messages.map((message) => message.messageId)).toEqual([mail.messageId]);
    });

    it('reports a 550 on RCPT as a permanent hard bounce, without logging the reply', async () => {
      const server = await sink({ respond: ({ stage, address }) => (stage === 'rcpt' ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` } : null) });
      const { mailer: smtp, output, lines } = mailer(server.url);

      const outcome = expectFailed(await smtp.send(outgoing()));

      expect(outcome).toMatchObject({ failureClass: 'permanent', code: 'EENVELOPE:550', hardBounce: true });
      expect(outcome.detail).toContain('User unknown');
      expect(server.messages).toHaveLength(0);
      expect(lines()).toEqual([expect.objectContaining({ code: 'EENVELOPE:550', failureClass: 'permanent', hardBounce: true, msg: 'mail send failed' })]);
      expectNoPersonalData(output());
    });

    it('reports a 554 on DATA as permanent but not a hard bounce (the address was fine)', async () => {
      const server = await sink({ respond: ({ stage }) => (stage === 'data' ? { code: 554, message: '5.7.1 Message rejected as spam' } : null) });
      const { mailer: smtp } = mailer(server.url);

      const outcome = expectFailed(await smtp.send(outgoing()));

      expect(outcome).toMatchObject({ failureClass: 'permanent', code: 'EMESSAGE:554', hardBounce: false });
    });

    it('reports a 421 (server closing the connection) as transient', async () => {
      const server = await sink({ respond: ({ stage }) => (stage === 'mail' ? { code: 421, message: '4.4.2 Too busy, closing' } : null) });
      const { mailer: smtp } = mailer(server.url);

      const outcome = expectFailed(await smtp.send(outgoing()));

      // nodemailer reports it as ECONNECTION or as the refused command (EENVELOPE), depending on
      // whether it sees the reply or the closed socket first; either way the class is what counts.
      expect(outcome).toMatchObject({ failureClass: 'transient', code: expect.stringMatching(/^(ECONNECTION|EENVELOPE):421$/), hardBounce: false });
    });

    it('reports wrong credentials as a configuration problem (EAUTH), and right ones deliver', async () => {
      const server = await sink({ auth: { user: 'afterview', pass: 'right-secret' } });
      const wrong = mailer(`smtp://afterview:wrong-secret@${server.host}:${server.port}`);

      const outcome = expectFailed(await wrong.mailer.send(outgoing()));

      expect(outcome).toMatchObject({ failureClass: 'configuration', code: 'EAUTH:535', hardBounce: false });
      expect(server.stats.authFailures).toBeGreaterThanOrEqual(1);
      expect(server.messages).toHaveLength(0);
      expect(wrong.output()).not.toContain('wrong-secret');
      const verifyError = await wrong.mailer.verify!().then(() => null, (error: unknown) => error);
      expect(verifyError).toBeInstanceOf(MailerVerifyError);
      expect(verifyError).toMatchObject({ failureClass: 'configuration', code: 'EAUTH:535' });
      expect(String((verifyError as Error).message)).not.toContain('wrong-secret');

      const right = mailer(`smtp://afterview:right-secret@${server.host}:${server.port}`);
      await expect(right.mailer.verify!()).resolves.toBeUndefined();
      expect((await right.mailer.send(outgoing())).status).toBe('sent');
      expect(server.messages[0]?.user).toBe('afterview');
    });

    it('reports a server that requires authentication, when we send none, as configuration', async () => {
      const server = await sink({ auth: { user: 'afterview', pass: 'right-secret' } });
      const { mailer: smtp } = mailer(server.url);

      const outcome = expectFailed(await smtp.send(outgoing()));

      expect(outcome).toMatchObject({ failureClass: 'configuration', code: 'EENVELOPE:530' });
    });

    it('reports a refused connection as transient', async () => {
      const { mailer: smtp } = mailer(`smtp://127.0.0.1:${await closedPort()}`);

      const outcome = expectFailed(await smtp.send(outgoing()));

      expect(outcome).toMatchObject({ failureClass: 'transient', code: 'ECONNREFUSED', hardBounce: false });
    });

    it('reports an untrusted certificate and smtps:// against a plain port as configuration', async () => {
      // smtp-server's built-in certificate is self-signed (and expired): a relay we must not trust.
      const tlsServer = await sink({ secure: true });
      const untrusted = mailer(`smtps://${tlsServer.host}:${tlsServer.port}`);
      expect(expectFailed(await untrusted.mailer.send(outgoing()))).toMatchObject({ failureClass: 'configuration', hardBounce: false });

      const plainServer = await sink();
      const mismatched = mailer(`smtps://${plainServer.host}:${plainServer.port}`);
      expect(expectFailed(await mismatched.mailer.send(outgoing()))).toMatchObject({ failureClass: 'configuration', code: expect.stringMatching(/SSL|TLS/) });
      expect(tlsServer.messages).toHaveLength(0);
      expect(plainServer.messages).toHaveLength(0);
    });

    it('gives up on a server that stalls after the data, within the send deadline, as transient', async () => {
      let release = () => {};
      const stalled = new Promise<null>((resolve) => (release = () => resolve(null)));
      const server = await sink({ respond: ({ stage }) => (stage === 'data' ? stalled : null) });
      cleanups.push(async () => release());
      const { mailer: smtp } = mailer(server.url, { sendTimeoutMs: 400 });

      const started = Date.now();
      const outcome = expectFailed(await smtp.send(outgoing()));

      expect(outcome).toMatchObject({ failureClass: 'transient', code: 'ETIMEDOUT', hardBounce: false });
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('never lets a subject, a name or a header value add a header or a recipient', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url);

      const outcome = await smtp.send(
        outgoing({
          subject: 'Hello\r\nBcc: victim@example.com',
          from: { name: 'Ada\nBcc: victim2@example.com', address: FROM.address },
          replyTo: { name: 'Ada\r\nCc: victim3@example.com\u2028To: victim4@example.com', address: REPLY_TO.address },
          to: { name: 'Élodie\rX-Injected: yes', address: TO.address },
          headers: { 'X-Afterview-Message': 'id-1\r\nBcc: victim5@example.com' },
        }),
      );

      expect(outcome.status).toBe('sent');
      const received = server.messages[0]!;
      expect(received.envelope.rcptTo).toEqual([TO.address]);
      expect(received.headers.has('bcc')).toBe(false);
      expect(received.headers.has('cc')).toBe(false);
      expect(received.headers.has('x-injected')).toBe(false);
      expect(received.headerLines.map((line) => line.key).filter((key) => ['to', 'from', 'reply-to', 'subject'].includes(key))).toEqual(expect.arrayContaining(['to', 'from', 'reply-to', 'subject']));
      expect(received.headerLines.filter((line) => line.key === 'to')).toHaveLength(1);
      expect(first(received.parsed.to)?.map((entry) => entry.address)).toEqual([TO.address]);
      expect(received.raw.toString('utf8')).not.toMatch(/^(bcc|cc|x-injected):/im);
      expect(received.subject).toBe('Hello Bcc: victim@example.com');
      expect(received.headers.get('x-afterview-message')).toBe('id-1 Bcc: victim5@example.com');
    });

    it('refuses, without sending, an address list, a malformed Message-ID or a header the mailer owns', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url);

      const cases: Array<[Partial<OutgoingMail>, string]> = [
        [{ to: { name: 'Élodie', address: 'elodie@acme.example, eve@evil.example' } }, 'permanent'],
        [{ to: { name: 'Élodie', address: 'elodie@acme.example\r\nBcc: eve@evil.example' } }, 'permanent'],
        [{ replyTo: { name: 'Ada', address: '"Ada" <ada@candidates.example>' } }, 'permanent'],
        [{ from: { name: 'Acme', address: 'not-an-address' } }, 'configuration'],
        [{ messageId: '<no-domain>' }, 'permanent'],
        [{ messageId: '<a@b>\r\nBcc: eve@evil.example' }, 'permanent'],
        [{ inReplyTo: 'two words@x' }, 'permanent'],
        [{ headers: { Bcc: 'eve@evil.example' } }, 'permanent'],
        [{ headers: { 'X-Bad\r\nBcc': 'eve@evil.example' } }, 'permanent'],
      ];
      for (const [override, failureClass] of cases) {
        expect(expectFailed(await smtp.send(outgoing(override)))).toMatchObject({ failureClass, code: 'EINVALID_MAIL', hardBounce: false });
      }
      expect(server.messages).toHaveLength(0);
      expect(server.stats.connections).toBe(0);
    });

    it('sends 50 messages at once over at most 5 pooled connections', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url);
      const mails = Array.from({ length: 50 }, () => outgoing());

      const outcomes = await Promise.all(mails.map((mail) => smtp.send(mail)));

      expect(outcomes.filter((outcome) => outcome.status === 'sent')).toHaveLength(50);
      const received = await server.waitForMessages(50, 10_000);
      expect(new Set(received.map((message) => message.messageId))).toEqual(new Set(mails.map((mail) => mail.messageId)));
      expect(server.stats.connections).toBeGreaterThanOrEqual(1);
      expect(server.stats.connections).toBeLessThanOrEqual(5);
    });

    it('honours a smaller pool', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url, { pool: { maxConnections: 2, maxMessages: 10 } });

      const outcomes = await Promise.all(Array.from({ length: 20 }, () => smtp.send(outgoing())));

      expect(outcomes.every((outcome) => outcome.status === 'sent')).toBe(true);
      expect(server.stats.maxOpenConnections).toBeLessThanOrEqual(2);
      // 20 messages at 10 per connection: at least two connections were used up and replaced.
      expect(server.stats.connections).toBeGreaterThanOrEqual(2);
    });

    it('holds a message back, envelope and body sent, until its handover resolves; a refused handover leaves the server without it', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url);
      let handOver!: () => void;
      let askedAt = 0;
      const sending = smtp.send(outgoing(), {
        handover: () => {
          askedAt = Date.now();
          return new Promise<void>((resolve) => (handOver = resolve));
        },
      });
      while (!askedAt) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(server.messages).toHaveLength(0);
      handOver();
      expect((await sending).status).toBe('sent');
      expect(server.messages).toHaveLength(1);

      const refused = await smtp.send(outgoing(), { handover: async () => Promise.reject(new Error('not now')) });
      expect(refused.status).toBe('failed');
      expect(await smtp.send(outgoing())).toMatchObject({ status: 'sent' });
      expect(server.messages).toHaveLength(2);
    });

    it('lets a send under way finish on close(), and refuses sends after it', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url);

      const underWay = smtp.send(outgoing());
      await smtp.close();

      expect((await underWay).status).toBe('sent');
      expect(server.messages).toHaveLength(1);
      expect(expectFailed(await smtp.send(outgoing()))).toMatchObject({ failureClass: 'transient', code: 'ECLOSED' });
      await expect(smtp.close()).resolves.toBeUndefined();
    });

    it('refuses an SMTP_URL that is not smtp:// or smtps:// without echoing it', () => {
      const { log } = memoryLogger();
      for (const smtpUrl of ['http://user:hunter2@mail.example', 'not a url hunter2', 'smtp://']) {
        expect(() => createMailer({ smtpUrl, outboxDir: tmp, log })).toThrow(/SMTP_URL/);
        try {
          createMailer({ smtpUrl, outboxDir: tmp, log });
        } catch (error) {
          expect((error as Error).message).not.toContain('hunter2');
        }
      }
    });
  });

  describe('the SMTP sink itself (test/support/smtp-sink.ts)', () => {
    it('refuses a message over its size limit with 552, which the mailer reports as permanent', async () => {
      const server = await sink({ size: 1_000 });
      const { mailer: smtp } = mailer(server.url);

      const outcome = expectFailed(await smtp.send(outgoing({ text: 'x'.repeat(5_000) })));

      expect(outcome).toMatchObject({ failureClass: 'permanent', code: 'EMESSAGE:552', hardBounce: false });
      expect(server.messages).toHaveLength(0);
      expect(server.stats.refusals).toBe(1);
    });

    it('counts connections open and closed, waits for messages, and times out a wait that is not met', async () => {
      const server = await sink();
      const { mailer: smtp } = mailer(server.url);

      const waiting = server.waitForMessages(2, 5_000);
      await Promise.all([smtp.send(outgoing()), smtp.send(outgoing())]);
      expect(await waiting).toHaveLength(2);
      expect(server.stats.openConnections).toBeGreaterThanOrEqual(1);

      await smtp.close();
      await vi.waitFor(() => expect(server.stats.openConnections).toBe(0), { timeout: 3_000 });
      await expect(server.waitForMessages(3, 100)).rejects.toThrow(/expected 3 messages within 100 ms, got 2/);

      server.reset();
      expect(server.messages).toHaveLength(0);
      expect(server.stats.connections).toBe(0);
    });
  });

  describe('into the .eml outbox (no SMTP_URL)', () => {
    it('writes one file named after the Message-ID that parses back to the same message, and logs no personal data', async () => {
      const { mailer: eml, output, lines } = mailer(undefined);
      const mail = outgoing({ messageId: '<0192f1c2-7a3b-7c00-8000-0000000000ee@mail.acme.example>' });

      const outcome = await eml.send(mail);

      expect(eml.kind).toBe('eml');
      expect(outcome).toEqual({ status: 'sent', response: 'written to the outbox as 0192f1c2-7a3b-7c00-8000-0000000000ee.eml' });
      const outbox = path.join(tmp, 'outbox');
      expect(await readdir(outbox)).toEqual(['0192f1c2-7a3b-7c00-8000-0000000000ee.eml']);
      const parsed = await simpleParser(await readFile(path.join(outbox, '0192f1c2-7a3b-7c00-8000-0000000000ee.eml')));
      expect(first(parsed.from)).toEqual([FROM]);
      expect(first(parsed.replyTo)).toEqual([REPLY_TO]);
      expect(first(parsed.to)).toEqual([TO]);
      expect(parsed.subject).toBe(SUBJECT);
      expect(parsed.messageId).toBe(mail.messageId);
      expect(parsed.inReplyTo).toBe(mail.inReplyTo);
      expect(parsed.references).toEqual(mail.references);
      expect(parsed.headers.get('x-afterview-message')).toBe('0192f1c2-7a3b-7c00-8000-00000000abcd');
      expect(parsed.text?.trimEnd()).toBe(BODY);
      expect(parsed.headers.has('bcc')).toBe(false);

      expect(lines()).toEqual([expect.objectContaining({ level: 30, file: '0192f1c2-7a3b-7c00-8000-0000000000ee.eml', msg: 'message written to the outbox' })]);
      expectNoPersonalData(output());
    });

    it('writes nothing when the handover is refused', async () => {
      const { mailer: eml } = mailer(undefined);
      const outcome = await eml.send(outgoing(), { handover: async () => Promise.reject(new Error('not now')) });
      expect(outcome.status).toBe('failed');
      expect(await readdir(path.join(tmp, 'outbox')).catch(() => [])).toEqual([]);
    });

    it('overwrites the same file when the same Message-ID is written again', async () => {
      const { mailer: eml } = mailer(undefined);
      const messageId = newMessageId();

      await eml.send(outgoing({ messageId, text: 'first version' }));
      await eml.send(outgoing({ messageId, text: 'second version' }));

      const files = await readdir(path.join(tmp, 'outbox'));
      expect(files).toHaveLength(1);
      const parsed = await simpleParser(await readFile(path.join(tmp, 'outbox', files[0]!)));
      expect(parsed.text?.trim()).toBe('second version');
    });

    it('keeps a hostile Message-ID inside the outbox, and two ids that sanitise alike apart', async () => {
      const { mailer: eml } = mailer(undefined);

      await eml.send(outgoing({ messageId: '<../../escape@mail.acme.example>' }));
      await eml.send(outgoing({ messageId: '<a+b@mail.acme.example>' }));
      await eml.send(outgoing({ messageId: '<a_b@mail.acme.example>' }));

      const files = (await readdir(path.join(tmp, 'outbox'))).sort();
      expect(files).toHaveLength(3);
      expect(files).toContain('a_b.eml');
      for (const file of files) expect(file).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._-]*\.eml$/);
      expect(await readdir(tmp)).toEqual(['outbox']);
    });

    it('turns an unwritable outbox into a configuration failure, and verify() says so', async () => {
      const blocked = path.join(tmp, 'not-a-directory');
      await writeFile(blocked, 'x');
      const { log, output } = memoryLogger();
      const eml: Mailer = createMailer({ outboxDir: path.join(blocked, 'outbox'), log });

      const outcome = expectFailed(await eml.send(outgoing()));

      expect(outcome).toMatchObject({ failureClass: 'configuration', hardBounce: false });
      await expect(eml.verify!()).rejects.toMatchObject({ failureClass: 'configuration' });
      expectNoPersonalData(output());
      await eml.close();
    });

    it('creates the outbox on verify()', async () => {
      const { mailer: eml } = mailer(undefined);
      await expect(eml.verify!()).resolves.toBeUndefined();
      expect(await readdir(path.join(tmp, 'outbox'))).toEqual([]);
    });
  });

  describe('toNodemailerOptions (our own layer, before nodemailer sees anything)', () => {
    it('flattens every header text to one line and pins the envelope to the To mailbox', () => {
      const options = toNodemailerOptions(
        outgoing({
          subject: 'Hello\r\nBcc: victim@example.com\u0085\u2029 end',
          from: { name: 'Ada\nBcc: victim2@example.com', address: FROM.address },
          replyTo: { name: 'Ada\u0000\u2028Cc: x@example.com', address: REPLY_TO.address },
          to: { name: '\r\n', address: TO.address },
          headers: { 'X-Afterview-Message': 'id\r\n\tBcc: y@example.com' },
        }),
      );

      expect(options.subject).toBe('Hello Bcc: victim@example.com end');
      expect(options.from).toEqual({ name: 'Ada Bcc: victim2@example.com', address: FROM.address });
      expect(options.replyTo).toEqual({ name: 'Ada Cc: x@example.com', address: REPLY_TO.address });
      // A name that was nothing but line breaks leaves the bare address.
      expect(options.to).toBe(TO.address);
      expect(options.headers).toEqual({ 'X-Afterview-Message': 'id Bcc: y@example.com' });
      expect(options.envelope).toEqual({ from: FROM.address, to: [TO.address] });
      expect(JSON.stringify([options.subject, options.from, options.replyTo, options.headers])).not.toMatch(/\\[rnt]|\\u00|\u2028|\u2029|\u0085/);
    });
  });

  describe('classifySmtpError', () => {
    const table: Array<[string, unknown, { failureClass: string; code: string; hardBounce: boolean }]> = [
      ['4xx on RCPT', { code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO', response: '451 4.3.0 later' }, { failureClass: 'transient', code: 'EENVELOPE:451', hardBounce: false }],
      ['4xx on DATA', { code: 'EMESSAGE', responseCode: 452, command: 'DATA', response: '452 4.3.1 out of storage' }, { failureClass: 'transient', code: 'EMESSAGE:452', hardBounce: false }],
      ['421 as ECONNECTION', { code: 'ECONNECTION', responseCode: 421, command: 'CONN', response: '421 closing' }, { failureClass: 'transient', code: 'ECONNECTION:421', hardBounce: false }],
      ['ETIMEDOUT', { code: 'ETIMEDOUT', command: 'CONN' }, { failureClass: 'transient', code: 'ETIMEDOUT', hardBounce: false }],
      ['ESOCKET', { code: 'ESOCKET' }, { failureClass: 'transient', code: 'ESOCKET', hardBounce: false }],
      ['ESOCKET from ECONNRESET', { code: 'ESOCKET', originalCode: 'ECONNRESET' }, { failureClass: 'transient', code: 'ECONNRESET', hardBounce: false }],
      ['ECONNECTION', { code: 'ECONNECTION' }, { failureClass: 'transient', code: 'ECONNECTION', hardBounce: false }],
      ['ECONNRESET', { code: 'ECONNRESET' }, { failureClass: 'transient', code: 'ECONNRESET', hardBounce: false }],
      ['ECONNREFUSED', { code: 'ESOCKET', originalCode: 'ECONNREFUSED' }, { failureClass: 'transient', code: 'ECONNREFUSED', hardBounce: false }],
      ['EDNS', { code: 'EDNS', originalCode: 'ENOTFOUND' }, { failureClass: 'transient', code: 'EDNS', hardBounce: false }],
      ['550 on RCPT', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 user unknown' }, { failureClass: 'permanent', code: 'EENVELOPE:550', hardBounce: true }],
      ['551 on RCPT', { code: 'EENVELOPE', responseCode: 551, command: 'RCPT TO', response: '551 user not local' }, { failureClass: 'permanent', code: 'EENVELOPE:551', hardBounce: true }],
      ['553 on RCPT', { code: 'EENVELOPE', responseCode: 553, command: 'RCPT TO', response: '553 5.1.3 bad address syntax' }, { failureClass: 'permanent', code: 'EENVELOPE:553', hardBounce: true }],
      ['EENVELOPE 550 without a command', { code: 'EENVELOPE', responseCode: 550 }, { failureClass: 'permanent', code: 'EENVELOPE:550', hardBounce: true }],
      ['552 mailbox full on RCPT', { code: 'EENVELOPE', responseCode: 552, command: 'RCPT TO', response: '552 5.2.2 mailbox full' }, { failureClass: 'permanent', code: 'EENVELOPE:552', hardBounce: false }],
      ['550 5.7.1 policy on RCPT', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.7.1 rejected by policy' }, { failureClass: 'permanent', code: 'EENVELOPE:550', hardBounce: false }],
      ['553 on MAIL FROM', { code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM', response: '553 5.7.1 sender not owned' }, { failureClass: 'permanent', code: 'EENVELOPE:553', hardBounce: false }],
      ['554 on DATA', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 5.7.1 spam' }, { failureClass: 'permanent', code: 'EMESSAGE:554', hardBounce: false }],
      ['550 5.1.1 on DATA (LMTP-style)', { code: 'EMESSAGE', responseCode: 550, command: 'DATA', response: '550 5.1.1 no such user' }, { failureClass: 'permanent', code: 'EMESSAGE:550', hardBounce: true }],
      ['503 bad sequence', { code: 'EENVELOPE', responseCode: 503, command: 'RCPT TO', response: '503 5.5.1 bad sequence' }, { failureClass: 'transient', code: 'EENVELOPE:503', hardBounce: false }],
      ['EAUTH', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', response: '535 invalid' }, { failureClass: 'configuration', code: 'EAUTH:535', hardBounce: false }],
      ['ENOAUTH', { code: 'ENOAUTH' }, { failureClass: 'configuration', code: 'ENOAUTH', hardBounce: false }],
      ['530 auth required', { code: 'EENVELOPE', responseCode: 530, command: 'MAIL FROM', response: '530 5.7.0 Authentication required' }, { failureClass: 'configuration', code: 'EENVELOPE:530', hardBounce: false }],
      ['554 relay denied on RCPT', { code: 'EENVELOPE', responseCode: 554, command: 'RCPT TO', response: '554 5.7.1 <x@y>: Relay access denied' }, { failureClass: 'configuration', code: 'EENVELOPE:554', hardBounce: false }],
      ['ETLS', { code: 'ETLS' }, { failureClass: 'configuration', code: 'ETLS', hardBounce: false }],
      ['certificate error via ESOCKET', { code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }, { failureClass: 'configuration', code: 'CERT_HAS_EXPIRED', hardBounce: false }],
      ['self-signed certificate', { code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, { failureClass: 'configuration', code: 'DEPTH_ZERO_SELF_SIGNED_CERT', hardBounce: false }],
      ['hostname mismatch', { code: 'ESOCKET', originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID' }, { failureClass: 'configuration', code: 'ERR_TLS_CERT_ALTNAME_INVALID', hardBounce: false }],
      ['EENVELOPE refused locally (no reply)', { code: 'EENVELOPE', message: 'No recipients defined' }, { failureClass: 'permanent', code: 'EENVELOPE', hardBounce: false }],
      ['an unknown error', new Error('something odd'), { failureClass: 'transient', code: 'EUNKNOWN', hardBounce: false }],
      ['not even an Error', 'a string', { failureClass: 'transient', code: 'EUNKNOWN', hardBounce: false }],
      ['null', null, { failureClass: 'transient', code: 'EUNKNOWN', hardBounce: false }],
    ];

    it.each(table)('%s', (_name, error, expected) => {
      const withMessage = typeof error === 'object' && error !== null && !(error instanceof Error) ? Object.assign(new Error((error as { message?: string }).message ?? 'failed'), error) : error;
      expect(classifySmtpError(withMessage)).toMatchObject(expected);
    });

    it('keeps the detail to one short line and prefers the server reply', () => {
      const error = Object.assign(new Error('Can\u2019t send mail - all recipients were rejected'), { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: `550 5.1.1 ${'x'.repeat(2_000)}\r\nmore` });
      const { detail } = classifySmtpError(error);
      expect(detail.startsWith('550 5.1.1 xxx')).toBe(true);
      expect(detail.length).toBeLessThanOrEqual(500);
      expect(detail).not.toMatch(/[\r\n]/);
      expect(classifySmtpError(new Error('line one\nline two')).detail).toBe('line one line two');
    });
  });
});
