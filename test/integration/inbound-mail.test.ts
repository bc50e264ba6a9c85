import { createSign, generateKeyPairSync, createHmac, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { replyTokenKeys } from '../../src/inbound/reply-token.js';
import { startInboundSmtp, type InboundSmtpListener } from '../../src/inbound/smtp-listener.js';
import { snsStringToSign } from '../../src/inbound/providers.js';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { type InboundDependencies, processPendingInbound, storeInboundMessage } from '../../src/services/inbound-mail.js';
import { dispatchDueMessages } from '../../src/services/message-dispatch.js';
import { dispatchReplyForwards } from '../../src/services/reply-forwards.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createCandidateVia, createTestTenant, gql, scheduleInterviewVia, TEST_JWT_SECRET, type TestTenant } from '../support/app.js';
import { cancelPendingWork } from '../support/due-messages.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { fixture } from '../support/inbound-fixtures.js';

// The inbound pipeline in-process: a real SMTP listener and real provider routes storing into a
// real database, the processor run by hand under a controlled clock, replies forwarded through a
// real SMTP server on loopback.

const DOMAIN = 'in.afterview.test';
const INTERVIEW = { startsAt: '2026-03-03T14:00:00Z', endsAt: '2026-03-03T15:00:00Z', decisionExpectedBy: '2026-03-13T12:00:00Z' };
const CREDENTIALS = { user: 'inbound', password: 'inbound-password-123' };
const BASIC = `Basic ${Buffer.from(`${CREDENTIALS.user}:${CREDENTIALS.password}`).toString('base64')}`;
const MAILGUN_KEY = 'key-mailgun-signing-test';

/** A self-signed certificate standing in for SNS's, pinned through the configuration. */
function snsSigner(): { pem: string; sign: (text: string) => string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sns-'));
  const keyFile = path.join(dir, 'key.pem');
  fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const pem = execFileSync('openssl', ['req', '-new', '-x509', '-key', keyFile, '-subj', '/CN=sns.test', '-days', '3650'], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  new X509Certificate(pem);
  return { pem, sign: (text) => createSign('RSA-SHA256').update(text).sign(privateKey, 'base64') };
}

describe.each(testDatabaseKinds())('inbound mail on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let sink: SmtpSink;
  let mailer: Mailer;
  let listener: InboundSmtpListener;
  let now: Date;
  let deps: InboundDependencies;
  const sns = snsSigner();
  const log = pino({ level: 'silent' });
  const spell = createEnglishSpellChecker();
  const addressing = { domain: DOMAIN, keys: replyTokenKeys(['inbound-token-secret-for-tests']) };

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await buildApp({
      db: database.db,
      jwtSecret: TEST_JWT_SECRET,
      logger: false,
      clock: () => now,
      inbound: { domain: DOMAIN, webhookUser: CREDENTIALS.user, webhookPassword: CREDENTIALS.password, mailgunSigningKey: MAILGUN_KEY, snsCertificatesPem: sns.pem },
    });
    await app.ready();
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
    deps = { db: database.db, clock: () => now, spell, addressing, log };
    listener = await startInboundSmtp({
      host: '127.0.0.1',
      port: 0,
      domain: DOMAIN,
      maxConnections: 10,
      log,
      store: async (message) => (await storeInboundMessage(database.db, { source: 'smtp', ...message }, now)).id!,
    });
  });
  afterAll(async () => {
    await listener?.close();
    await mailer?.close();
    await sink?.close();
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    now = new Date('2026-03-03T16:00:00Z');
    sink.reset();
    await cancelPendingWork(database.db);
    await sql`UPDATE follow_up_plans SET status = 'cancelled' WHERE status = 'active'`.execute(database.db);
    await sql`UPDATE reply_forwards SET status = 'dead' WHERE status <> 'sent'`.execute(database.db);
  });

  async function interviewWithSentThankYous(): Promise<{ tenant: TestTenant; interviewId: string; messages: Map<string, { id: string; header: string; replyTo: string; bounce: string }> }> {
    const tenant = await createTestTenant(database.db);
    await gql(app, tenant.token, `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`, { d: { businessHours: 'always', thankYou: { delayMinutes: 0 } } });
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    await dispatchDueMessages(database.db, { mailer, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 2, addressing });
    const mails = await sink.waitForMessages(2);
    const messages = new Map<string, { id: string; header: string; replyTo: string; bounce: string }>();
    for (const mail of mails) {
      const to = mail.envelope.rcptTo[0]!;
      const replyTo = (mail.headers.get('reply-to') as { value: Array<{ address: string }> }).value[0]!.address;
      messages.set(to, { id: mail.headers.get('x-afterview-message') as string, header: mail.messageId!, replyTo, bounce: mail.envelope.mailFrom! });
    }
    sink.reset();
    return { tenant, interviewId: interview.id, messages };
  }

  async function sendInto(raw: Buffer, envelope: { from: string; to: string[] }) {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true });
    try {
      return await transport.sendMail({ envelope, raw });
    } finally {
      transport.close();
    }
  }

  const STEPS = `query ($id: ID!) { interview(id: $id) {
    replies { id kind fromEmail fromEmployer text interviewId }
    followUpPlan { steps { kind status reason dueAt recipient { email } decisions { rule outcome detail } message { status } } } } }`;

  it('a human reply over SMTP stops the check-ins, is listed, and reaches the candidate from the tenant with Reply-To the interviewer', async () => {
    const { tenant, interviewId, messages } = await interviewWithSentThankYous();
    const grace = messages.get('grace.hopper@northwind.example')!;
    expect(grace.replyTo).toMatch(new RegExp(`^reply\\+[0-9a-f]{48}@${DOMAIN.replaceAll('.', '\\.')}$`));
    expect(grace.bounce).toMatch(/^bounce\+[0-9a-f]{48}@/);
    const raw = fixture('human-gmail', { to: grace.replyTo, msgid: '<not-ours@elsewhere.example>' })
      .toString()
      .replaceAll('alice.martin@northwind.example', 'grace.hopper@northwind.example');
    const info = await sendInto(Buffer.from(raw), { from: 'grace.hopper@northwind.example', to: [grace.replyTo] });
    expect(info.response).toMatch(/^250 /);

    now = new Date('2026-03-04T10:00:00Z');
    expect(await processPendingInbound(deps)).toMatchObject({ processed: 1, statuses: { applied: 1 } });
    const result = await gql(app, tenant.token, STEPS, { id: interviewId });
    const { replies, followUpPlan } = result.data.interview;
    expect(replies).toEqual([expect.objectContaining({ kind: 'HUMAN', fromEmail: 'grace.hopper@northwind.example', fromEmployer: true, interviewId })]);
    expect(replies[0].text).toContain('will get back to you by Friday');
    expect(replies[0].text).not.toContain('Thank you for taking the time');
    const nudges = followUpPlan.steps.filter((s: any) => s.kind === 'CHECK_IN' || s.kind === 'FINAL_CHECK_IN');
    expect(nudges.length).toBeGreaterThan(0);
    expect(nudges.every((s: any) => s.status === 'CANCELLED' && s.reason === 'employer_replied')).toBe(true);

    const listed = await gql(app, tenant.token, `{ inboundMessages { edges { node { status classification matchedBy source fromAddress interviewId } } } }`);
    expect(listed.data.inboundMessages.edges[0].node).toEqual({ status: 'APPLIED', classification: 'human', matchedBy: 'token', source: 'smtp', fromAddress: 'grace.hopper@northwind.example', interviewId });

    expect(await dispatchReplyForwards(database.db, { mailer, clock: () => now, log, leaseMs: 60_000, batchSize: 10 })).toMatchObject({ sent: 1 });
    const [forward] = await sink.waitForMessages(1);
    expect(forward!.envelope.rcptTo).toEqual(['ada@example.com']);
    expect(forward!.headers.get('from')).toMatchObject({ value: [{ address: `${tenant.slug}@afterview.test` }] });
    expect(forward!.headers.get('reply-to')).toMatchObject({ value: [{ address: 'grace.hopper@northwind.example' }] });
    expect(forward!.text).toContain('will get back to you by Friday');
  });

  it('an out-of-office answer defers that person’s next check-in without cancelling anything', async () => {
    const { tenant, interviewId, messages } = await interviewWithSentThankYous();
    const grace = messages.get('grace.hopper@northwind.example')!;
    const before = (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview.followUpPlan.steps;
    const checkIn = before.find((s: any) => s.kind === 'CHECK_IN' && s.recipient.email === 'grace.hopper@northwind.example');
    expect(checkIn?.status).toBe('SCHEDULED');
    // Back on Friday 20 March, after the check-in's due time.
    expect(new Date(checkIn.dueAt).getTime()).toBeLessThan(new Date('2026-03-20T00:00:00Z').getTime());
    const raw = Buffer.from(
      `From: Grace Hopper <grace.hopper@northwind.example>\r\nTo: ${grace.replyTo}\r\nSubject: Automatic reply: Thank you\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo-1@northwind.example>\r\n\r\nI am out of the office until Thursday, March 19. I will be back on Friday, March 20.\r\n`,
    );
    await sendInto(raw, { from: '', to: [grace.replyTo] });
    now = new Date('2026-03-04T10:00:00Z');
    await processPendingInbound(deps);
    const after = (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview;
    expect(after.replies).toEqual([expect.objectContaining({ kind: 'AUTO_REPLY', fromEmployer: false })]);
    const deferred = after.followUpPlan.steps.find((s: any) => s.kind === 'CHECK_IN' && s.recipient.email === 'grace.hopper@northwind.example');
    expect(deferred.status).toBe('SCHEDULED');
    expect(new Date(deferred.dueAt).getTime()).toBeGreaterThanOrEqual(new Date('2026-03-19T23:00:00Z').getTime());
    expect(deferred.decisions.at(-1)).toMatchObject({ rule: 'S1', outcome: 'ADJUST' });
    expect(after.followUpPlan.steps.filter((s: any) => s.status === 'CANCELLED')).toEqual([]);
    // Automatic answers are not forwarded to the candidate.
    expect(await dispatchReplyForwards(database.db, { mailer, clock: () => now, log, leaseMs: 60_000, batchSize: 10 })).toMatchObject({ sent: 0 });
  });

  it('a DSN 5.1.1 sent to the bounce address fails the message and suppresses the address; a 4.x.x is recorded only', async () => {
    const { tenant, interviewId, messages } = await interviewWithSentThankYous();
    const alan = messages.get('alan.turing@northwind.example')!;
    await sendInto(fixture('dsn-postfix-delayed-4.4.1', { to: alan.bounce, rcpt: 'alan.turing@northwind.example', msgid: alan.header }), { from: '', to: [alan.bounce] });
    await processPendingInbound(deps);
    let suppressed = await gql(app, tenant.token, `{ suppressions { edges { node { address reason } } } }`);
    expect(suppressed.data.suppressions.edges).toEqual([]);

    await sendInto(fixture('dsn-exchange-5.1.10', { to: alan.bounce, rcpt: 'alan.turing@northwind.example', msgid: alan.header }), { from: '', to: [alan.bounce] });
    await processPendingInbound(deps);
    suppressed = await gql(app, tenant.token, `{ suppressions { edges { node { address reason } } } }`);
    expect(suppressed.data.suppressions.edges.map((e: any) => e.node)).toEqual([{ address: 'alan.turing@northwind.example', reason: 'HARD_BOUNCE' }]);
    const steps = (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview.followUpPlan.steps;
    const thankYou = steps.find((s: any) => s.kind === 'THANK_YOU' && s.recipient.email === 'alan.turing@northwind.example');
    expect(thankYou).toMatchObject({ status: 'FAILED', reason: 'bounced', message: { status: 'DEAD' } });
    // Grace's side goes on.
    expect(steps.find((s: any) => s.kind === 'CHECK_IN' && s.recipient.email === 'grace.hopper@northwind.example')?.status).toBe('SCHEDULED');
  });

  it('refuses recipients outside the inbound domain (never a relay) and keeps unmatched mail without effects', async () => {
    await expect(sendInto(fixture('human-gmail'), { from: 'x@elsewhere.example', to: ['someone@elsewhere.example'] })).rejects.toMatchObject({ responseCode: 550 });
    const forged = `reply+${'0'.repeat(48)}@${DOMAIN}`;
    const stranger = fixture('human-gmail', { to: forged, msgid: '<unknown@nowhere.example>' }).toString().replaceAll('alice.martin@northwind.example', 'stranger@nowhere.example');
    expect((await sendInto(Buffer.from(stranger), { from: 'stranger@nowhere.example', to: [forged] })).response).toMatch(/^250 /);
    const result = await processPendingInbound(deps);
    expect(result.statuses).toEqual({ unmatched: 1 });
    const row = await database.db.selectFrom('inbound_messages').select(['status', 'tenant_id', 'reply_id']).orderBy('received_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
    expect(row).toEqual({ status: 'unmatched', tenant_id: null, reply_id: null });
  });

  it('hostile MIME is answered at once, stored, and marked unparsable', async () => {
    const deep = `From: a@b.example\r\nTo: x@${DOMAIN}\r\nSubject: deep\r\nMIME-Version: 1.0\r\n` + Array.from({ length: 200 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`).join('') + 'x\r\n';
    const parts = `From: a@b.example\r\nTo: x@${DOMAIN}\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n` + Array.from({ length: 10_000 }, () => '--p\r\nContent-Type: text/plain\r\n\r\nx\r\n').join('') + '--p--\r\n';
    const headers = `From: a@b.example\r\nTo: x@${DOMAIN}\r\n` + Array.from({ length: 20_000 }, (_, i) => `X-Filler-${i}: ${'y'.repeat(30)}\r\n`).join('') + '\r\nbody\r\n';
    for (const raw of [deep, parts, headers]) {
      const info = await sendInto(Buffer.from(raw), { from: 'a@b.example', to: [`x@${DOMAIN}`] });
      expect(info.response).toMatch(/^250 /);
    }
    const result = await processPendingInbound(deps);
    expect(result.statuses.unparsable).toBe(3);
  });

  describe('provider routes', () => {
    async function replyTarget() {
      const { tenant, interviewId, messages } = await interviewWithSentThankYous();
      return { tenant, interviewId, grace: messages.get('grace.hopper@northwind.example')!, alan: messages.get('alan.turing@northwind.example')! };
    }

    it('Postmark: basic auth (401 and nothing stored without it), idempotent on MessageID', async () => {
      const { tenant, interviewId, grace } = await replyTarget();
      const payload = {
        FromFull: { Email: 'grace.hopper@northwind.example', Name: 'Grace Hopper' },
        From: 'grace.hopper@northwind.example',
        To: grace.replyTo,
        ToFull: [{ Email: grace.replyTo, Name: '', MailboxHash: grace.replyTo.split('+')[1]!.split('@')[0] }],
        OriginalRecipient: grace.replyTo,
        Subject: 'Re: Thank you',
        MessageID: 'a8c1040e-9e7d-4c2a-8b4f-0f6f3c5e1d2a',
        Date: 'Wed, 4 Mar 2026 09:00:00 +0100',
        TextBody: 'Thanks Ada, we will decide next week.\n\nOn Tue, Mar 3, 2026 Ada wrote:\n> Dear Grace',
        HtmlBody: '',
        StrippedTextReply: 'Thanks Ada, we will decide next week.',
        Headers: [{ Name: 'Message-ID', Value: '<pm-1@northwind.example>' }, { Name: 'X-Spam-Status', Value: 'No' }],
        Attachments: [],
      };
      const count = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM inbound_messages`.execute(database.db)).rows[0]!.n);
      const before = await count();
      const wrong = await app.inject({ method: 'POST', url: '/v1/inbound/postmark', headers: { authorization: 'Basic ' + Buffer.from('inbound:nope').toString('base64'), 'content-type': 'application/json' }, payload });
      expect(wrong.statusCode).toBe(401);
      const none = await app.inject({ method: 'POST', url: '/v1/inbound/postmark', headers: { 'content-type': 'application/json' }, payload });
      expect(none.statusCode).toBe(401);
      expect(await count()).toBe(before);
      const first = await app.inject({ method: 'POST', url: '/v1/inbound/postmark', headers: { authorization: BASIC, 'content-type': 'application/json' }, payload });
      expect(first.statusCode).toBe(202);
      const again = await app.inject({ method: 'POST', url: '/v1/inbound/postmark', headers: { authorization: BASIC, 'content-type': 'application/json' }, payload });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ duplicate: true });
      expect(await count()).toBe(before + 1);
      await processPendingInbound(deps);
      const replies = (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview.replies;
      expect(replies).toEqual([expect.objectContaining({ kind: 'HUMAN', text: 'Thanks Ada, we will decide next week.' })]);
    });

    it('Mailgun: HMAC signature of timestamp and token (401 when wrong), body-mime accepted', async () => {
      const { tenant, interviewId, grace } = await replyTarget();
      const timestamp = String(Math.floor(now.getTime() / 1000));
      const token = 'f'.repeat(50);
      const raw = fixture('human-outlook', { to: grace.replyTo, msgid: grace.header }).toString().replaceAll('kenji.watanabe@northwind.example', 'grace.hopper@northwind.example');
      const form = (signature: string) => new URLSearchParams({ recipient: grace.replyTo, sender: 'grace.hopper@northwind.example', timestamp, token, signature, 'body-mime': raw }).toString();
      const good = createHmac('sha256', MAILGUN_KEY).update(timestamp + token).digest('hex');
      const bad = await app.inject({ method: 'POST', url: '/v1/inbound/mailgun', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form('0'.repeat(64)) });
      expect(bad.statusCode).toBe(401);
      const ok = await app.inject({ method: 'POST', url: '/v1/inbound/mailgun', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form(good) });
      expect(ok.statusCode).toBe(202);
      await processPendingInbound(deps);
      const replies = (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview.replies;
      expect(replies).toEqual([expect.objectContaining({ kind: 'HUMAN', fromEmail: 'grace.hopper@northwind.example' })]);
      expect(replies[0].text).toContain('on-call');
    });

    it('SendGrid Inbound Parse (multipart, parsed fields) with basic auth', async () => {
      const { tenant, interviewId, grace } = await replyTarget();
      const form = new FormData();
      form.set('headers', `Message-ID: <sg-1@northwind.example>\nIn-Reply-To: ${grace.header}\nFrom: Grace Hopper <grace.hopper@northwind.example>\nTo: ${grace.replyTo}\nSubject: Re: Thank you\n`);
      form.set('from', 'Grace Hopper <grace.hopper@northwind.example>');
      form.set('to', grace.replyTo);
      form.set('subject', 'Re: Thank you');
      form.set('text', 'Could you send two references?');
      form.set('envelope', JSON.stringify({ to: [grace.replyTo], from: 'grace.hopper@northwind.example' }));
      const request = new Request('http://x/', { method: 'POST', body: form });
      const body = Buffer.from(await request.arrayBuffer());
      const headers = { 'content-type': request.headers.get('content-type')! };
      expect((await app.inject({ method: 'POST', url: '/v1/inbound/sendgrid', headers, payload: body })).statusCode).toBe(401);
      expect((await app.inject({ method: 'POST', url: '/v1/inbound/sendgrid', headers: { ...headers, authorization: BASIC }, payload: body })).statusCode).toBe(202);
      await processPendingInbound(deps);
      const replies = (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview.replies;
      expect(replies).toEqual([expect.objectContaining({ kind: 'HUMAN', text: 'Could you send two references?' })]);
    });

    it('raw message/rfc822 with basic auth', async () => {
      const { tenant, interviewId, grace } = await replyTarget();
      const raw = fixture('ooo-de', { to: grace.replyTo }).toString().replaceAll('juergen.mueller@northwind.example', 'grace.hopper@northwind.example');
      const response = await app.inject({ method: 'POST', url: '/v1/inbound/raw', headers: { authorization: BASIC, 'content-type': 'message/rfc822' }, payload: raw });
      expect(response.statusCode).toBe(202);
      const wrongType = await app.inject({ method: 'POST', url: '/v1/inbound/raw', headers: { authorization: BASIC, 'content-type': 'text/plain' }, payload: raw });
      expect(wrongType.statusCode).toBe(400);
      await processPendingInbound(deps);
      const replies = (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview.replies;
      expect(replies).toEqual([expect.objectContaining({ kind: 'AUTO_REPLY', fromEmployer: false })]);
    });

    it('SES through SNS: verified with the pinned certificate (401 when tampered), bounces via provider events', async () => {
      const { tenant, interviewId, grace, alan } = await replyTarget();
      // The pinned certificate is valid from today on: the SNS messages are checked at the real time.
      now = new Date();
      const raw = fixture('human-gmail', { to: grace.replyTo, msgid: grace.header }).toString().replaceAll('alice.martin@northwind.example', 'grace.hopper@northwind.example');
      const notification = {
        notificationType: 'Received',
        mail: { messageId: 'ses-0001', source: 'grace.hopper@northwind.example', destination: [grace.replyTo] },
        receipt: { recipients: [grace.replyTo], action: { type: 'SNS', encoding: 'BASE64', topicArn: 'arn:aws:sns:eu-west-1:123456789012:inbound' } },
        content: Buffer.from(raw).toString('base64'),
      };
      const signed = (message: string) => {
        const envelope = { Type: 'Notification', MessageId: `sns-${message.length}`, TopicArn: 'arn:aws:sns:eu-west-1:123456789012:inbound', Message: message, Timestamp: now.toISOString(), SignatureVersion: '2', Signature: '', SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/cert.pem' };
        return { ...envelope, Signature: sns.sign(snsStringToSign(envelope)) };
      };
      const body = signed(JSON.stringify(notification));
      const tampered = { ...body, Message: body.Message.replace('ses-0001', 'ses-0002') };
      expect((await app.inject({ method: 'POST', url: '/v1/inbound/ses', headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: JSON.stringify(tampered) })).statusCode).toBe(401);
      expect((await app.inject({ method: 'POST', url: '/v1/inbound/ses', headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: JSON.stringify(body) })).statusCode).toBe(202);

      const bounce = signed(
        JSON.stringify({
          notificationType: 'Bounce',
          bounce: { bounceType: 'Permanent', bounceSubType: 'General', feedbackId: 'fb-1', bouncedRecipients: [{ emailAddress: 'alan.turing@northwind.example', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }] },
          mail: { messageId: 'ses-out-1', commonHeaders: { messageId: alan.header } },
        }),
      );
      expect((await app.inject({ method: 'POST', url: '/v1/provider-events/ses', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(bounce) })).statusCode).toBe(202);
      await processPendingInbound(deps);
      const replies = (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview.replies;
      expect(replies.map((r: any) => r.kind).sort()).toEqual(['BOUNCE', 'HUMAN']);
      const suppressed = await gql(app, tenant.token, `{ suppressions { edges { node { address reason } } } }`);
      expect(suppressed.data.suppressions.edges.map((e: any) => e.node)).toEqual([{ address: 'alan.turing@northwind.example', reason: 'HARD_BOUNCE' }]);
    });

    it('provider complaint events suppress the address (SendGrid spamreport, basic auth)', async () => {
      const { tenant, grace } = await replyTarget();
      const events = [{ email: 'grace.hopper@northwind.example', event: 'spamreport', 'smtp-id': grace.header, sg_event_id: 'sg-ev-1', timestamp: 1772600000 }];
      expect((await app.inject({ method: 'POST', url: '/v1/provider-events/sendgrid', headers: { 'content-type': 'application/json' }, payload: events })).statusCode).toBe(401);
      expect((await app.inject({ method: 'POST', url: '/v1/provider-events/sendgrid', headers: { 'content-type': 'application/json', authorization: BASIC }, payload: events })).statusCode).toBe(202);
      const suppressed = await gql(app, tenant.token, `{ suppressions { edges { node { address reason } } } }`);
      expect(suppressed.data.suppressions.edges.map((e: any) => e.node)).toEqual([{ address: 'grace.hopper@northwind.example', reason: 'OPT_OUT' }]);
    });
  });

  it('recordReply: concerns imply raisesConcerns; a vouched-for sender counts; mailer-daemon never does', async () => {
    const { tenant, interviewId } = await interviewWithSentThankYous();
    const record = (input: Record<string, unknown>) =>
      gql(app, tenant.token, `mutation ($i: RecordReplyInput!) { recordReply(input: $i) { fromEmployer raisesConcerns concerns kind cancelledSteps { id } } }`, { i: { interviewId, ...input } });
    const daemon = await record({ fromEmail: 'MAILER-DAEMON@northwind.example', fromEmployer: true });
    expect(daemon.data.recordReply).toMatchObject({ fromEmployer: false, kind: 'HUMAN', cancelledSteps: [] });
    const stranger = await record({ fromEmail: 'someone@agency.example' });
    expect(stranger.data.recordReply).toMatchObject({ fromEmployer: false, cancelledSteps: [] });
    const vouched = await record({ fromEmail: 'someone@agency.example', fromEmployer: true, concerns: 'We wonder about the notice period.' });
    expect(vouched.data.recordReply).toMatchObject({ fromEmployer: true, raisesConcerns: true, concerns: 'We wonder about the notice period.' });
    expect(vouched.data.recordReply.cancelledSteps.length).toBeGreaterThan(0);
  });
});
