import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/db/ids.js';
import { insertDeliveries } from '../../src/db/webhooks.js';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { createRelayBreaker } from '../../src/mail/relay-breaker.js';
import { dispatchDueMessages } from '../../src/services/message-dispatch.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { runWorkerTick, type TickDependencies } from '../../src/worker/tick.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant, tokenFor } from '../support/app.js';
import { cancelPendingWork } from '../support/due-messages.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

// Delivery through faults, in-process against a real SMTP server and a real webhook receiver:
// a relay that refuses connections or answers 421 for hours, a message-specific refusal, a mail
// backlog beside due webhooks (and the reverse), and sending a dead message again.

const INTERVIEW = { startsAt: '2026-03-03T14:00:00Z', endsAt: '2026-03-03T15:00:00Z' };
const HOUR = 60 * 60_000;

describe.each(testDatabaseKinds())('delivery faults on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let sink: SmtpSink;
  let mailer: Mailer;
  let now: Date;
  const receivers: WebhookReceiver[] = [];
  const spell = createEnglishSpellChecker();
  const log = pino({ level: 'silent' });
  const clock = () => now;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db, { clock, webhooks: { allowPrivate: true, requireHttps: false } });
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await mailer?.close();
    await sink?.close();
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    now = new Date('2026-03-03T16:00:00Z');
    sink.reset();
    sink.setResponder(null);
    // Each test's messages and deliveries stay its own.
    await cancelPendingWork(database.db);
    await sql`UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL WHERE status IN ('pending', 'delivering')`.execute(database.db);
  });

  async function sandboxTenant(): Promise<TestTenant> {
    const tenant = await createTestTenant(database.db);
    const updated = await gql(app, tenant.token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0 } }) { version } }`);
    expect(updated.errors).toBeUndefined();
    return tenant;
  }

  /** Interviews whose thank-yous are all due now, evaluated into queued messages. */
  async function queuedThankYous(tenant: TestTenant, interviews: number, perInterview: number, email = (i: number, j: number) => `person-${i}-${j}@northwind.example`) {
    const candidateId = await createCandidateVia(app, tenant.token);
    for (let i = 0; i < interviews; i += 1) {
      await scheduleInterviewVia(app, tenant.token, candidateId, {
        ...INTERVIEW,
        interviewers: Array.from({ length: perInterview }, (_, j) => ({ name: `Person ${i}-${j}`, email: email(i, j) })),
      });
    }
    await evaluateDueSteps(database.db, { now, batchSize: 500, spell });
  }

  async function messagesOf(tenant: TestTenant) {
    const { rows } = await sql<{ id: string; status: string; attempts: number; message_id_header: string }>`
      SELECT id, status, attempts, message_id_header FROM messages WHERE tenant_id = ${tenant.id} ORDER BY id`.execute(database.db);
    return rows;
  }

  const dispatch = (breaker: ReturnType<typeof createRelayBreaker>) =>
    dispatchDueMessages(database.db, { mailer, clock, log, batchSize: 100, leaseMs: 60_000, concurrency: 4, breaker });

  it('connections refused for three hours: the breaker pauses sending and probes, no attempt is spent, nothing goes dead; all go once the relay is back', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 1, 3);
    const breaker = createRelayBreaker({ maxProbeDelayMs: 30_000 });
    await sink.refuseConnections();
    try {
      const first = await dispatch(breaker);
      expect(first).toMatchObject({ sent: 0, dead: 0 });
      expect(first.pausedUntil).not.toBeNull();
      expect(breaker.state).toBe('open');
      // While the relay stays away: a probe at each due time, one message at a time, each pause at most the cap.
      const start = now.getTime();
      while (now.getTime() - start < 3 * HOUR) {
        const waitMs = breaker.probeAt!.getTime() - now.getTime();
        expect(waitMs).toBeLessThanOrEqual(30_000);
        // Once the pauses reach the cap, leap ahead by whole hours (as if many probes had failed alike).
        now = new Date(breaker.probeAt!.getTime() + (waitMs === 30_000 ? HOUR : 0));
        const probe = await dispatch(breaker);
        expect(probe).toMatchObject({ claimed: 1, sent: 0, dead: 0 });
        expect(probe.pausedUntil).not.toBeNull();
      }
      const during = await messagesOf(tenant);
      expect(during.map((m) => [m.status, m.attempts])).toEqual([
        ['retry', 0],
        ['retry', 0],
        ['retry', 0],
      ]);
    } finally {
      await sink.acceptConnections();
    }
    // The relay is back: the next probe gets through and everything goes.
    now = breaker.probeAt!;
    const resumed = await dispatch(breaker);
    expect(resumed).toMatchObject({ sent: 3, dead: 0, pausedUntil: null });
    expect(breaker.state).toBe('closed');
    const after = await messagesOf(tenant);
    expect(after.map((m) => [m.status, m.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
      ['sent', 1],
    ]);
    expect(sink.messages.map((m) => m.messageId).sort()).toEqual(after.map((m) => m.message_id_header).sort());
  }, 60_000);

  it('a relay answering 421 is an outage too: nothing is spent while it lasts', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 1, 2);
    let down = true;
    sink.setResponder((event) => (down && event.stage === 'mail' ? { code: 421, message: '4.3.2 Service not available, closing channel' } : null));
    const breaker = createRelayBreaker();
    const first = await dispatch(breaker);
    expect(first).toMatchObject({ sent: 0, dead: 0 });
    expect(breaker.state).toBe('open');
    for (let probe = 0; probe < 3; probe += 1) {
      now = breaker.probeAt!;
      expect(await dispatch(breaker)).toMatchObject({ claimed: 1, sent: 0 });
    }
    expect((await messagesOf(tenant)).map((m) => [m.status, m.attempts])).toEqual([
      ['retry', 0],
      ['retry', 0],
    ]);
    down = false;
    now = breaker.probeAt!;
    expect(await dispatch(breaker)).toMatchObject({ sent: 2, pausedUntil: null });
    const { rows } = await sql<{ data: any }>`
      SELECT data FROM audit_events WHERE tenant_id = ${tenant.id} AND action = 'message.retry' ORDER BY id LIMIT 1`.execute(database.db);
    expect(rows[0]!.data).toMatchObject({ relayOutage: true, attempts: 0 });
    expect(rows[0]!.data.code).toContain('421');
  });

  it('a refusal of one message (451 to its recipient) still spends an attempt, and the breaker stays closed', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 1, 2, (_i, j) => (j === 0 ? 'greylisted@northwind.example' : `person-${j}@northwind.example`));
    sink.setResponder((event) => (event.stage === 'rcpt' && event.address === 'greylisted@northwind.example' ? { code: 451, message: '4.7.1 Greylisted, try later' } : null));
    const breaker = createRelayBreaker();
    const result = await dispatch(breaker);
    expect(result).toMatchObject({ sent: 1, retried: 1, pausedUntil: null });
    expect(breaker.state).toBe('closed');
    expect((await messagesOf(tenant)).map((m) => [m.status, m.attempts]).sort()).toEqual([
      ['retry', 1],
      ['sent', 1],
    ]);
  });

  function tickDeps(concurrency: number): TickDependencies {
    return {
      db: database.db,
      mailer,
      spell,
      clock,
      log,
      settings: { batchSize: 200, leaseMs: 60_000, sendConcurrency: concurrency, handoverWindow: 1 },
      webhooks: { allowPrivate: true, requireHttps: false },
    };
  }

  async function dueDeliveries(tenant: TestTenant, receiver: WebhookReceiver, count: number) {
    const registered = await gql(app, tenant.token, `mutation ($url: String!) { registerWebhookEndpoint(url: $url, events: ["plan.cancelled"]) { endpoint { id } } }`, {
      url: receiver.url,
    });
    const endpointId = registered.data.registerWebhookEndpoint.endpoint.id as string;
    await insertDeliveries(
      database.db,
      Array.from({ length: count }, () => ({
        tenant_id: tenant.id,
        id: newId(),
        endpoint_id: endpointId,
        event_type: 'plan.cancelled',
        payload: JSON.stringify({ type: 'plan.cancelled', timestamp: now.toISOString(), data: { planId: newId() } }),
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      })),
    );
  }

  it('webhooks do not wait for a mail backlog: a due webhook goes out while a slow relay still has most of the mail ahead of it', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 3, 10);
    sink.setResponder(async (event) => (event.stage === 'data' ? (await new Promise((resolve) => setTimeout(resolve, 15)), null) : null));
    let mailBeforeWebhook = -1;
    const receiver = await startWebhookReceiver({
      respond: () => {
        if (mailBeforeWebhook < 0) mailBeforeWebhook = sink.messages.length;
        return { status: 200 };
      },
    });
    receivers.push(receiver);
    await dueDeliveries(tenant, receiver, 1);
    await runWorkerTick(tickDeps(4), new AbortController().signal);
    expect(receiver.requests).toHaveLength(1);
    expect(sink.messages).toHaveLength(30);
    expect(mailBeforeWebhook).toBeGreaterThanOrEqual(0);
    expect(mailBeforeWebhook).toBeLessThan(15);
  }, 60_000);

  it('mail does not wait for a webhook backlog: a due message goes out while a slow partner still has most of the webhooks ahead of it', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 1, 1);
    const receiver = await startWebhookReceiver({ respond: () => ({ status: 200, delayMs: 150 }) });
    receivers.push(receiver);
    await dueDeliveries(tenant, receiver, 12);
    let webhooksBeforeMail = -1;
    sink.setResponder((event) => {
      if (event.stage === 'data' && webhooksBeforeMail < 0) webhooksBeforeMail = receiver.requests.length;
      return null;
    });
    await runWorkerTick(tickDeps(2), new AbortController().signal);
    expect(sink.messages).toHaveLength(1);
    expect(receiver.requests).toHaveLength(12);
    expect(webhooksBeforeMail).toBeGreaterThanOrEqual(0);
    expect(webhooksBeforeMail).toBeLessThan(6);
  }, 60_000);

  it('requeueMessage sends a dead message again under its Message-ID; it is scoped to the tenant, needs followups:write, and refuses what is not dead or is suppressed', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 1, 2, (_i, j) => `refused-${j}@northwind.example`);
    // The relay refuses the content for good (not the address): both messages go dead.
    sink.setResponder((event) => (event.stage === 'data' ? { code: 554, message: '5.6.0 Content refused' } : null));
    expect(await dispatch(createRelayBreaker())).toMatchObject({ dead: 2 });
    sink.setResponder(null);
    const [dead, other] = await messagesOf(tenant);
    const REQUEUE = `mutation ($id: ID!) { requeueMessage(id: $id) { id status attempts messageIdHeader step { status } } }`;

    const stranger = await createTestTenant(database.db);
    const foreign = await gql(app, stranger.token, REQUEUE, { id: dead!.id });
    expect(foreign.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    const missing = await gql(app, stranger.token, REQUEUE, { id: 'not-an-id' });
    expect(missing.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    const readOnly = await gql(app, tokenFor(tenant.id, { scopes: ['followups:read'] }), REQUEUE, { id: dead!.id });
    expect(readOnly.errors?.[0]?.extensions.code).toBe('FORBIDDEN');

    const requeued = await gql(app, tenant.token, REQUEUE, { id: dead!.id });
    expect(requeued.errors).toBeUndefined();
    expect(requeued.data.requeueMessage).toMatchObject({ id: dead!.id, status: 'QUEUED', attempts: 0, messageIdHeader: dead!.message_id_header, step: { status: 'QUEUED' } });
    const twice = await gql(app, tenant.token, REQUEUE, { id: dead!.id });
    expect(twice.errors?.[0]?.extensions.code).toBe('CONFLICT');

    expect(await dispatch(createRelayBreaker())).toMatchObject({ sent: 1 });
    expect(sink.messages.map((m) => m.messageId)).toEqual([dead!.message_id_header]);
    const sent = await gql(app, tenant.token, `query ($id: ID!) { message(id: $id) { status step { status } } }`, { id: dead!.id });
    expect(sent.data.message).toEqual({ status: 'SENT', step: { status: 'SENT' } });
    const audit = await gql(app, tenant.token, `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { actor action data } } } }`, { id: dead!.id });
    const requeueEvent = audit.data.auditEvents.edges.map((edge: any) => edge.node).find((event: any) => event.action === 'message.requeued');
    expect(requeueEvent).toMatchObject({ actor: `user@${tenant.slug}`, data: { from: 'dead', attempts: 1 } });

    // An address suppressed since may not be written to again.
    await gql(app, tenant.token, `mutation { suppressAddress(address: "refused-1@northwind.example") { address } }`);
    const suppressed = await gql(app, tenant.token, REQUEUE, { id: other!.id });
    expect(suppressed.errors?.[0]?.extensions.code).toBe('CONFLICT');
    expect(suppressed.errors?.[0]?.message).toContain('suppressed');
  });
});
