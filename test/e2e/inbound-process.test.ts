import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../support/inbound-fixtures.js';
import { runCli, type ServiceProcess, serviceEnv, startService } from '../support/processes.js';
import { type SinkMessage, type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { eventually as poll } from '../support/eventually.js';

// Mail coming back to the service as a process: a real SMTP client sends replies, an
// out-of-office and a bounce into its inbound listener; what it forwards arrives at a real SMTP
// server on loopback.

/** The service may be away on purpose here (killed and restarted): a check that throws means "not yet". */
const eventually = <T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string) => poll(check, timeoutMs, what, { tolerateErrors: true });

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

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const PLAN = `query ($id: ID!) { interview(id: $id) {
  replies { kind fromEmail fromEmployer }
  followUpPlan { steps { kind status reason dueAt recipient { email } decisions { rule outcome } } } } }`;

describe('inbound mail through the service as a process', () => {
  let dataDir: string;
  let sink: SmtpSink;
  let service: ServiceProcess | undefined;
  let token: string;
  let inboundPort: number;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'afterview-inbound-'));
    sink = await startSmtpSink();
    inboundPort = await freePort();
    // No JWT_SECRET: the service makes one (kept in the data directory, so it survives the restart
    // below). Its development tenant is a sandbox, whose mail never reaches SMTP_URL: a live
    // tenant is made through the running service (the CLI asks it, the data directory being in use).
    env = serviceEnv({ DATA_DIR: dataDir, SMTP_URL: sink.url, WORKER_CRON: '* * * * * *', INBOUND_SMTP_PORT: String(inboundPort) });
    service = await startService(env, [], 170_000);
    const created = runCli(['tenant', 'create', 'northwind-live'], env);
    expect(created.status, created.stderr).toBe(0);
    token = (JSON.parse(created.stdout) as { token: string }).token;
    await eventually(async () => service!.output().includes(`smtp://127.0.0.1:${inboundPort}`), 60_000, 'the inbound listener');
    await graphql(service.url, token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0 } }) { version } }`);
  }, 300_000);
  afterAll(async () => {
    await service?.stop();
    await sink?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function send(raw: Buffer | string, envelope: { from: string; to: string[] }) {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: inboundPort, secure: false, ignoreTLS: true });
    try {
      return await transport.sendMail({ envelope, raw });
    } finally {
      transport.close();
    }
  }

  const steps = async (interviewId: string) => (await graphql(service!.url, token, PLAN, { id: interviewId })).interview;

  it('an out-of-office defers, a DSN suppresses, a human reply cancels the check-ins and reaches the candidate; strangers are refused; a kill -9 after 250 loses nothing', async () => {
    const { createCandidate: candidate } = await graphql(service!.url, token, `mutation { createCandidate(input: { name: "Ada Lovelace", email: "ada@example.com", consent: true }) { id } }`);
    const ended = new Date(Date.now() - 60_000);
    const { scheduleInterview: interview } = await graphql(service!.url, token, `mutation ($input: ScheduleInterviewInput!) { scheduleInterview(input: $input) { id } }`, {
      input: {
        candidateId: candidate.id,
        positionTitle: 'Site Reliability Engineer',
        companyName: 'Northwind Analytics',
        startsAt: new Date(ended.getTime() - 3_600_000).toISOString(),
        endsAt: ended.toISOString(),
        timezone: 'Europe/Berlin',
        decisionExpectedBy: new Date(Date.now() + 10 * 86_400_000).toISOString(),
        interviewers: [
          { name: 'Grace Hopper', email: 'grace@northwind.example', isPrimaryContact: true },
          { name: 'Alan Turing', email: 'alan@northwind.example' },
          { name: 'Kim Lee', email: 'kim@northwind.example' },
        ],
      },
    });
    const mails = await sink.waitForMessages(3, 30_000);
    const to = (address: string) => mails.find((m: SinkMessage) => m.envelope.rcptTo[0] === address)!;
    const replyTo = (mail: SinkMessage) => (mail.headers.get('reply-to') as { value: Array<{ address: string }> }).value[0]!.address;
    const grace = to('grace@northwind.example');
    const alan = to('alan@northwind.example');
    const kim = to('kim@northwind.example');
    await eventually(async () => (await steps(interview.id)).followUpPlan.steps.filter((s: any) => s.kind === 'THANK_YOU' && s.status === 'SENT').length === 3, 30_000, 'three thank-yous recorded as sent');
    const checkInBefore = (await steps(interview.id)).followUpPlan.steps.find((s: any) => s.kind === 'CHECK_IN');

    // Out of office: the check-in to Grace waits for her return; nothing is cancelled.
    const back = new Date(new Date(checkInBefore.dueAt).getTime() + 5 * 86_400_000);
    const backText = back.toLocaleDateString('en-US', { month: 'long', day: 'numeric', timeZone: 'Europe/Berlin' });
    const ooo = `From: Grace Hopper <grace@northwind.example>\r\nTo: ${replyTo(grace)}\r\nSubject: Automatic reply: ${grace.subject}\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo-e2e@northwind.example>\r\n\r\nI am away and will be back on ${backText}.\r\n`;
    expect((await send(ooo, { from: '', to: [replyTo(grace)] })).response).toMatch(/^250 /);
    await eventually(async () => (await steps(interview.id)).replies.some((r: any) => r.kind === 'AUTO_REPLY'), 20_000, 'the out-of-office recorded');
    const afterOoo = await steps(interview.id);
    const checkIn = afterOoo.followUpPlan.steps.find((s: any) => s.kind === 'CHECK_IN');
    expect(checkIn.status).toBe('SCHEDULED');
    expect(new Date(checkIn.dueAt).getTime()).toBeGreaterThan(new Date(checkInBefore.dueAt).getTime());
    expect(checkIn.decisions.at(-1)).toMatchObject({ rule: 'S1', outcome: 'ADJUST' });
    expect(afterOoo.followUpPlan.steps.filter((s: any) => s.status === 'CANCELLED')).toEqual([]);

    // A bounce for Kim: her thank-you failed, her address is suppressed.
    const dsn = fixture('dsn-postfix-5.1.1', { to: kim.envelope.mailFrom!, rcpt: 'kim@northwind.example', msgid: kim.messageId! });
    expect((await send(dsn, { from: '', to: [kim.envelope.mailFrom!] })).response).toMatch(/^250 /);
    await eventually(
      async () => (await graphql(service!.url, token, `{ suppressions { edges { node { address reason } } } }`)).suppressions.edges.some((e: any) => e.node.address === 'kim@northwind.example' && e.node.reason === 'HARD_BOUNCE'),
      20_000,
      'kim suppressed',
    );
    expect((await steps(interview.id)).followUpPlan.steps.find((s: any) => s.kind === 'THANK_YOU' && s.recipient.email === 'kim@northwind.example')).toMatchObject({ status: 'FAILED', reason: 'bounced' });

    // Alan answers: every check-in stops, and Ada gets his words from the tenant's address.
    sink.reset();
    const human = fixture('human-gmail', { to: replyTo(alan), msgid: alan.messageId! }).toString().replaceAll('alice.martin@northwind.example', 'alan@northwind.example');
    expect((await send(human, { from: 'alan@northwind.example', to: [replyTo(alan)] })).response).toMatch(/^250 /);
    const [forwarded] = await sink.waitForMessages(1, 30_000);
    expect(forwarded!.envelope.rcptTo).toEqual(['ada@example.com']);
    expect(forwarded!.headers.get('from')).toMatchObject({ value: [{ address: 'northwind-live@afterview.localhost' }] });
    expect(forwarded!.headers.get('reply-to')).toMatchObject({ value: [{ address: 'alan@northwind.example' }] });
    expect(forwarded!.text).toContain('will get back to you by Friday');
    const afterReply = await steps(interview.id);
    expect(afterReply.followUpPlan.steps.filter((s: any) => s.kind === 'CHECK_IN' || s.kind === 'FINAL_CHECK_IN').every((s: any) => s.status === 'CANCELLED')).toBe(true);

    // Never a relay.
    await expect(send(human, { from: 'alan@northwind.example', to: ['someone@elsewhere.example'] })).rejects.toMatchObject({ responseCode: 550 });

    // kill -9 the moment the 250 arrives: the message is there after the restart, and handled.
    const last = fixture('human-outlook', { to: replyTo(grace), msgid: grace.messageId! }).toString().replaceAll('kenji.watanabe@northwind.example', 'grace@northwind.example').replace(/^Subject: .*$/m, 'Subject: RE: the kill test');
    const accepted = await send(last, { from: 'grace@northwind.example', to: [replyTo(grace)] });
    service!.child.kill('SIGKILL');
    expect(accepted.response).toMatch(/^250 /);
    await service!.exited;
    service = await startService(env, [], 170_000);
    await eventually(async () => service!.output().includes(`smtp://127.0.0.1:${inboundPort}`), 60_000, 'the inbound listener again');
    const listed = await eventually(
      async () => {
        const { inboundMessages } = await graphql(service!.url, token, `{ inboundMessages(first: 50) { edges { node { subject status } } } }`);
        return inboundMessages.edges.find((e: any) => e.node.subject === 'RE: the kill test' && e.node.status === 'APPLIED');
      },
      30_000,
      'the message accepted before the kill, handled after the restart',
    );
    expect(listed).toBeTruthy();
  }, 400_000);
});
