import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { setTestClock } from '../../src/db/tenants.js';
import { replyTokenKeys } from '../../src/inbound/reply-token.js';
import { processPendingInbound, storeInboundMessage } from '../../src/services/inbound-mail.js';
import { dispatchReplyForwards } from '../../src/services/reply-forwards.js';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { runWorkerTick } from '../../src/worker/tick.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { fixture } from '../support/inbound-fixtures.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

// Sandboxes and the test clock, in-process: a sandbox's time is its own, its due work runs when
// the clock is advanced (never by the live worker), its mail is kept and its webhooks go.

const TUESDAY_AFTERNOON = new Date('2026-03-03T16:00:00Z');
const ADVANCE = /* GraphQL */ `mutation ($to: DateTime!) { advanceTestClock(to: $to) { now stepsEvaluated messagesSent } }`;
const PLAN = /* GraphQL */ `
  query ($id: ID!) {
    interview(id: $id) {
      followUpPlan { status steps { kind status reason dueAt recipient { email } message { status sentAt subject } } }
    }
  }
`;

const days = (n: number) => n * 24 * 60 * 60 * 1000;

describe.each(testDatabaseKinds())('sandboxes on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let outbox: string;
  let sink: SmtpSink;
  let mailer: Mailer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    outbox = fs.mkdtempSync(path.join(os.tmpdir(), 'afterview-sandbox-outbox-'));
    app = await createTestApp(database.db, { sandboxOutboxDir: outbox, webhooks: { allowPrivate: true, requireHttps: false } });
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: path.join(outbox, 'live'), log: pino({ level: 'silent' }) });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await mailer?.close();
    await sink?.close();
    await receiver?.close();
    await app?.close();
    await database?.close();
    fs.rmSync(outbox, { recursive: true, force: true });
  });

  /** A sandbox whose clock stands at a known Tuesday afternoon, with one panel interview that ended an hour ago. */
  async function sandboxWithPanel(): Promise<{ tenant: TestTenant; interviewId: string }> {
    const tenant = await createTestTenant(database.db, undefined, { sandbox: true });
    await setTestClock(database.db, tenant.id, TUESDAY_AFTERNOON);
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, { startsAt: '2026-03-03T14:00:00Z', endsAt: '2026-03-03T15:00:00Z' });
    return { tenant, interviewId: interview.id };
  }

  it('starts the clock at the real time and reads it back; live tenants have none', async () => {
    const before = Date.now();
    const sandbox = await createTestTenant(database.db, undefined, { sandbox: true });
    const clock = await gql(app, sandbox.token, '{ testClock }');
    expect(Date.parse(clock.data.testClock)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(clock.data.testClock)).toBeLessThanOrEqual(Date.now());

    const live = await createTestTenant(database.db);
    const read = await gql(app, live.token, '{ testClock }');
    expect(read.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    const advance = await gql(app, live.token, ADVANCE, { to: new Date(Date.now() + days(1)).toISOString() });
    expect(advance.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it('moves forward only, at most 400 days a call', async () => {
    const tenant = await createTestTenant(database.db, undefined, { sandbox: true });
    await setTestClock(database.db, tenant.id, TUESDAY_AFTERNOON);
    const back = await gql(app, tenant.token, ADVANCE, { to: new Date(TUESDAY_AFTERNOON.getTime() - 1000).toISOString() });
    expect(back.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    const far = await gql(app, tenant.token, ADVANCE, { to: new Date(TUESDAY_AFTERNOON.getTime() + days(401)).toISOString() });
    expect(far.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(far.errors?.[0]?.message).toContain('400 days');
    const clock = await gql(app, tenant.token, '{ testClock }');
    expect(clock.data.testClock).toBe(TUESDAY_AFTERNOON.toISOString());
  });

  it('plans in the sandbox time, and an advance runs what falls due: thank-yous the next business morning, kept as sent', async () => {
    const { tenant, interviewId } = await sandboxWithPanel();
    const planned = await gql(app, tenant.token, PLAN, { id: interviewId });
    const thankYous = planned.data.interview.followUpPlan.steps.filter((step: { kind: string }) => step.kind === 'THANK_YOU');
    expect(thankYous).toHaveLength(2);
    // 17:00 UTC is after hours in Berlin: Wednesday 09:00 there.
    for (const step of thankYous) expect(step.dueAt).toBe('2026-03-04T08:00:00.000Z');

    const advanced = await gql(app, tenant.token, ADVANCE, { to: '2026-03-04T16:00:00Z' });
    expect(advanced.errors).toBeUndefined();
    expect(advanced.data.advanceTestClock).toMatchObject({ now: '2026-03-04T16:00:00.000Z', messagesSent: 2 });
    expect(advanced.data.advanceTestClock.stepsEvaluated).toBeGreaterThanOrEqual(2);

    const after = await gql(app, tenant.token, PLAN, { id: interviewId });
    const sent = after.data.interview.followUpPlan.steps.filter((step: { kind: string }) => step.kind === 'THANK_YOU');
    for (const step of sent) {
      expect(step.status).toBe('SENT');
      expect(step.message.status).toBe('SENT');
      // Sent when it fell due, in the sandbox's time.
      expect(step.message.sentAt).toBe('2026-03-04T08:00:00.000Z');
    }
    const messages = await gql(app, tenant.token, '{ messages(first: 10) { edges { node { status to sentAt } } } }');
    expect(messages.data.messages.edges.map((edge: { node: { status: string } }) => edge.node.status)).toEqual(['SENT', 'SENT']);
    // Kept as .eml copies under the tenant's own folder, never handed to SMTP.
    const copies = fs.readdirSync(path.join(outbox, tenant.slug)).filter((name) => name.endsWith('.eml'));
    expect(copies).toHaveLength(2);
    expect(fs.readFileSync(path.join(outbox, tenant.slug, copies[0]!), 'utf8')).toMatch(/northwind\.example/);
    expect(sink.messages).toHaveLength(0);

    // Audit times are the sandbox's.
    const audit = await gql(app, tenant.token, `query ($id: ID!) { auditEvents(entityId: $id, first: 5) { edges { node { at action } } } }`, { id: interviewId });
    expect(audit.data.auditEvents.edges[0].node.at).toBe(TUESDAY_AFTERNOON.toISOString());
  });

  it('the live worker never runs a sandbox by the wall clock', async () => {
    const { tenant, interviewId } = await sandboxWithPanel();
    // A wall clock a year ahead: everything of the sandbox would be overdue by it.
    const deps = {
      db: database.db,
      mailer,
      spell: createEnglishSpellChecker(),
      clock: () => new Date(Date.now() + days(365)),
      log: pino({ level: 'silent' }),
      settings: { batchSize: 50, leaseMs: 60_000, sendConcurrency: 2, handoverWindow: 1 },
      webhooks: { allowPrivate: true, requireHttps: false },
    };
    await runWorkerTick(deps, new AbortController().signal);
    const plan = await gql(app, tenant.token, PLAN, { id: interviewId });
    expect(plan.data.interview.followUpPlan.steps.every((step: { status: string }) => step.status === 'SCHEDULED')).toBe(true);
    expect(sink.messages).toHaveLength(0);
  });

  it('webhooks go, stamped with the sandbox time', async () => {
    const { tenant } = await sandboxWithPanel();
    const registered = await gql(app, tenant.token, `mutation ($url: String!) { registerWebhookEndpoint(url: $url, events: ["followup.sent"]) { secret } }`, { url: receiver.url });
    expect(registered.errors).toBeUndefined();
    const seen = receiver.requests.length;
    await gql(app, tenant.token, ADVANCE, { to: '2026-03-04T16:00:00Z' });
    // Delivered before the advance answered.
    const events = receiver.requests.slice(seen).map((request) => request.json as { type: string; timestamp: string; data: { sentAt: string } });
    expect(events.map((event) => event.type)).toEqual(['followup.sent', 'followup.sent']);
    for (const event of events) {
      // Sent when due; emitted at the end of the advance's round (at most an hour later).
      expect(event.data.sentAt).toBe('2026-03-04T08:00:00.000Z');
      expect(Date.parse(event.timestamp)).toBeGreaterThanOrEqual(Date.parse('2026-03-04T08:00:00Z'));
      expect(Date.parse(event.timestamp)).toBeLessThanOrEqual(Date.parse('2026-03-04T09:00:00Z'));
    }
  });

  it('serialises concurrent advances of one tenant: each due step runs once', async () => {
    const { tenant, interviewId } = await sandboxWithPanel();
    const [first, second] = await Promise.all([
      gql(app, tenant.token, ADVANCE, { to: '2026-03-31T16:00:00Z' }),
      gql(app, tenant.token, ADVANCE, { to: '2026-03-31T16:00:00Z' }),
    ]);
    expect(first.errors).toBeUndefined();
    expect(second.errors).toBeUndefined();
    const sent = first.data.advanceTestClock.messagesSent + second.data.advanceTestClock.messagesSent;
    const plan = await gql(app, tenant.token, PLAN, { id: interviewId });
    const sentSteps = plan.data.interview.followUpPlan.steps.filter((step: { status: string }) => step.status === 'SENT');
    expect(sent).toBe(sentSteps.length);
    // One of the two found nothing left to do.
    expect(Math.min(first.data.advanceTestClock.messagesSent, second.data.advanceTestClock.messagesSent)).toBe(0);
    // Two weeks and more later, nothing is left waiting: the check-ins went (or were stopped, with their reason).
    for (const step of plan.data.interview.followUpPlan.steps) expect(['SENT', 'SKIPPED', 'CANCELLED']).toContain(step.status);
  });

  it('resuming a plan leaves stopped steps alone and answers the steps in due order', async () => {
    const { tenant, interviewId } = await sandboxWithPanel();
    const outcome = await gql(app, tenant.token, `mutation ($id: ID!) { recordOutcome(interviewId: $id, outcome: OFFER) { id } }`, { id: interviewId });
    expect(outcome.errors).toBeUndefined();
    const before = (await gql(app, tenant.token, PLAN, { id: interviewId })).data.interview.followUpPlan;
    const stopped = before.steps.filter((step: { status: string }) => step.status === 'CANCELLED' || step.status === 'SKIPPED');
    expect(stopped.length).toBeGreaterThan(0);
    const planId = (await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { id } } }`, { id: interviewId })).data.interview.followUpPlan.id;
    await gql(app, tenant.token, `mutation ($id: ID!) { pauseFollowUpPlan(id: $id) { status } }`, { id: planId });
    const resumed = await gql(app, tenant.token, `mutation ($id: ID!) { resumeFollowUpPlan(id: $id) { status steps { kind status reason dueAt recipient { email } } } }`, { id: planId });
    expect(resumed.errors).toBeUndefined();
    const steps = resumed.data.resumeFollowUpPlan.steps;
    const dueTimes = steps.map((step: { dueAt: string }) => step.dueAt);
    expect([...dueTimes].sort()).toEqual(dueTimes);
    for (const step of stopped) {
      expect(steps).toContainEqual(expect.objectContaining({ kind: step.kind, status: step.status, reason: step.reason, recipient: step.recipient }));
    }
  });

  it('a reply to kept mail is received at the sandbox time; its forward is kept by the next advance, never sent; interview.ended and reply.received go', async () => {
    const { tenant, interviewId } = await sandboxWithPanel();
    const registered = await gql(app, tenant.token, `mutation ($url: String!) { registerWebhookEndpoint(url: $url, events: ["interview.ended", "reply.received"]) { secret } }`, {
      url: receiver.url,
    });
    expect(registered.errors).toBeUndefined();
    const seen = receiver.requests.length;
    // The panel ended at 15:00 on the sandbox's Tuesday: the first advance announces it, at the sandbox time.
    await gql(app, tenant.token, ADVANCE, { to: '2026-03-04T16:00:00Z' });
    const ended = receiver.requests.slice(seen).map((request) => request.json as { type: string; timestamp: string; data: Record<string, unknown> });
    expect(ended).toEqual([expect.objectContaining({ type: 'interview.ended', data: expect.objectContaining({ interviewId, endedAt: '2026-03-03T15:00:00.000Z' }) })]);
    expect(Date.parse(ended[0]!.timestamp)).toBeLessThan(Date.parse('2026-03-04T16:00:00Z'));

    // Grace answers the kept thank-you; the inbound processor runs by the wall clock, the reply happens in the sandbox's time.
    const { rows } = await sql<{ header: string }>`
      SELECT message_id_header AS header FROM messages WHERE tenant_id = ${tenant.id} AND to_address = 'grace.hopper@northwind.example'`.execute(database.db);
    const raw = fixture('human-gmail', { to: `${tenant.slug}@afterview.test`, msgid: rows[0]!.header }).toString().replaceAll('alice.martin@northwind.example', 'grace.hopper@northwind.example');
    await storeInboundMessage(database.db, { source: 'raw', raw: Buffer.from(raw) }, new Date());
    const log = pino({ level: 'silent' });
    const inbound = { db: database.db, clock: () => new Date(), spell: createEnglishSpellChecker(), log, addressing: { domain: 'in.afterview.localhost', keys: replyTokenKeys(['sandbox-test-secret']) } };
    expect(await processPendingInbound(inbound)).toMatchObject({ statuses: { applied: 1 } });
    const read = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { replies { kind fromEmail fromEmployer receivedAt } } }`, { id: interviewId });
    expect(read.data.interview.replies).toEqual([{ kind: 'HUMAN', fromEmail: 'grace.hopper@northwind.example', fromEmployer: true, receivedAt: '2026-03-04T16:00:00.000Z' }]);

    // The webhook carries GraphQL's spelling and the sandbox's time; it went at once (the live worker delivers a sandbox's webhooks by its clock).
    await runWorkerTick(
      { db: database.db, mailer, spell: createEnglishSpellChecker(), clock: () => new Date(), log, settings: { batchSize: 50, leaseMs: 60_000, sendConcurrency: 2, handoverWindow: 1 }, webhooks: { allowPrivate: true, requireHttps: false } },
      new AbortController().signal,
    );
    const replied = receiver.requests.slice(seen).map((request) => request.json as { type: string; timestamp: string; data: Record<string, unknown> }).filter((event) => event.type === 'reply.received');
    expect(replied).toEqual([expect.objectContaining({ timestamp: '2026-03-04T16:00:00.000Z', data: expect.objectContaining({ kind: 'HUMAN', interviewId, fromEmployer: true }) })]);

    // The live worker leaves the forward alone; the next advance keeps it, with an .eml copy, and never hands it to SMTP.
    expect(await dispatchReplyForwards(database.db, { mailer, clock: () => new Date(Date.now() + days(365)), log, leaseMs: 60_000, batchSize: 10 })).toMatchObject({ sent: 0 });
    const before = fs.readdirSync(path.join(outbox, tenant.slug)).length;
    await gql(app, tenant.token, ADVANCE, { to: '2026-03-05T16:00:00Z' });
    const { rows: forwards } = await sql<{ status: string; sent_at: Date }>`SELECT status, sent_at FROM reply_forwards WHERE tenant_id = ${tenant.id}`.execute(database.db);
    expect(forwards).toEqual([{ status: 'sent', sent_at: new Date('2026-03-04T16:00:00Z') }]);
    expect(fs.readdirSync(path.join(outbox, tenant.slug)).length).toBe(before + 1);
    expect(sink.messages).toHaveLength(0);
  });

  it('a review link lives by the sandbox clock: made at its time, and expired once an advance passes its end', async () => {
    const tenant = await createTestTenant(database.db, undefined, { sandbox: true });
    await setTestClock(database.db, tenant.id, TUESDAY_AFTERNOON);
    const candidateId = await createCandidateVia(app, tenant.token);
    const made = await gql(app, tenant.token, `mutation ($id: ID!) { createReviewLink(candidateId: $id, ttlSeconds: 3600) { url expiresAt } }`, { id: candidateId });
    expect(made.errors).toBeUndefined();
    expect(made.data.createReviewLink.expiresAt).toBe('2026-03-03T17:00:00.000Z');
    const secret = new URL(made.data.createReviewLink.url).hash.slice(1);
    const exchange = () => app.inject({ method: 'POST', url: '/review/session', payload: { secret } });
    // Long past by the wall clock, valid by the sandbox's.
    expect((await exchange()).statusCode).toBe(200);
    await gql(app, tenant.token, ADVANCE, { to: '2026-03-03T17:30:00Z' });
    const expired = await exchange();
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({ error: 'LINK_EXPIRED' });
  });
});
