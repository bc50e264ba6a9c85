import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { dispatchDueMessages } from '../../src/services/message-dispatch.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { dispatchDueWebhooks } from '../../src/services/webhooks.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { type ReceiverResponse, type WebhookReceiver, startWebhookReceiver } from '../support/webhook-receiver.js';

const INTERVIEW = { startsAt: '2026-03-03T14:00:00Z', endsAt: '2026-03-03T15:00:00Z', interviewers: [{ name: 'Grace Hopper', email: 'grace@northwind.example' }] };
const REGISTER = `mutation ($url: String!, $events: [String!]) { registerWebhookEndpoint(url: $url, events: $events) { secret endpoint { id url events status } } }`;
const DELIVERIES = `query ($endpointId: ID) { webhookDeliveries(first: 100, filter: { endpointId: $endpointId }) { edges { node { id eventType status attempts lastStatusCode lastError nextAttemptAt payload attemptLog { outcome statusCode } endpoint { id status } } } } }`;

describe.each(testDatabaseKinds())('webhooks on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let sink: SmtpSink;
  let mailer: Mailer;
  let now: Date;
  const receivers: WebhookReceiver[] = [];
  const spell = createEnglishSpellChecker();
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db, { clock: () => now, webhooks: { allowPrivate: true, requireHttps: false } });
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
    // Each test's deliveries stay its own.
    await sql`UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL WHERE status IN ('pending', 'delivering')`.execute(database.db);
  });

  async function setup(respond?: (count: number) => ReceiverResponse, events?: string[]) {
    const tenant = await createTestTenant(database.db);
    await gql(app, tenant.token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0 } }) { version } }`);
    const secrets: string[] = [];
    const receiver = await startWebhookReceiver({ secrets, respond: respond ? (_request, count) => respond(count) : undefined });
    receivers.push(receiver);
    const registered = await gql(app, tenant.token, REGISTER, { url: receiver.url, events });
    expect(registered.errors).toBeUndefined();
    secrets.push(registered.data.registerWebhookEndpoint.secret);
    return { tenant, receiver, secrets, endpointId: registered.data.registerWebhookEndpoint.endpoint.id as string };
  }

  async function sendThankYou(tenant: TestTenant) {
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    await dispatchDueMessages(database.db, { mailer, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 2 });
    return interview.id as string;
  }

  const deliver = (options: { allowPrivate?: boolean; timeoutMs?: number } = {}) =>
    dispatchDueWebhooks(database.db, {
      allowPrivate: options.allowPrivate ?? true,
      requireHttps: false,
      clock: () => now,
      log,
      batchSize: 100,
      concurrency: 4,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });

  async function deliveries(tenant: TestTenant, endpointId: string) {
    return (await gql(app, tenant.token, DELIVERIES, { endpointId })).data.webhookDeliveries.edges.map((edge: any) => edge.node);
  }

  it('registers an endpoint with a whsec_ secret shown once', async () => {
    const { tenant, endpointId } = await setup();
    const listed = await gql(app, tenant.token, `{ webhookEndpoints { id url events status } }`);
    expect(listed.data.webhookEndpoints).toEqual([expect.objectContaining({ id: endpointId, status: 'ACTIVE', events: [] })]);
    expect(JSON.stringify(listed.data)).not.toContain('whsec_');
    const bad = await gql(app, tenant.token, REGISTER, { url: 'https://partner.example/hooks', events: ['followup.exploded'] });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'events.0' });
  });

  it('followup.sent arrives signed (Standard Webhooks), with what a partner needs to know', async () => {
    const { tenant, receiver, secrets } = await setup();
    const interviewId = await sendThankYou(tenant);
    expect((await deliver()).delivered).toBeGreaterThanOrEqual(1);
    const [request] = await receiver.waitFor(1);
    // Verified here again with the library, from the raw body and headers, as a partner would.
    expect(() => new Webhook(secrets[0]!).verify(request!.rawBody, request!.headers)).not.toThrow();
    const body = request!.json as any;
    expect(body.type).toBe('followup.sent');
    expect(Date.parse(body.timestamp)).not.toBeNaN();
    expect(body.data).toMatchObject({
      interviewId,
      // Enum values as GraphQL spells them.
      kind: 'THANK_YOU',
      channel: 'EMAIL',
      recipient: { name: 'Grace Hopper', email: 'grace@northwind.example' },
      messageIdHeader: expect.stringMatching(/^<.+@afterview\.test>$/),
      sentAt: now.toISOString(),
    });
    expect(body.data.messageId).toBeTruthy();
    expect(body.data.planId).toBeTruthy();
    expect(body.data.decisions.map((decision: any) => decision.rule)).toEqual(expect.arrayContaining(['T1', 'T2', 'C1']));
    expect(new Set(body.data.decisions.map((decision: any) => decision.outcome))).not.toContain('pass');
    expect(body.data.decisions.map((decision: any) => decision.outcome)).toContain('PASS');
    expect(request!.headers['webhook-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a receiver that fails twice then succeeds: delivered once, three attempts logged, one webhook-id', async () => {
    const { tenant, receiver, endpointId } = await setup((count) => ({ status: count <= 2 ? 500 : 204 }));
    await sendThankYou(tenant);
    await deliver();
    let [delivery] = await deliveries(tenant, endpointId);
    expect(delivery).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: 500 });
    // 5 s, then 5 min (with ±10 % jitter), per API.md.
    const firstRetry = Date.parse(delivery.nextAttemptAt) - now.getTime();
    expect(firstRetry).toBeGreaterThanOrEqual(4_500);
    expect(firstRetry).toBeLessThanOrEqual(5_500);
    now = new Date(now.getTime() + 6_000);
    await deliver();
    [delivery] = await deliveries(tenant, endpointId);
    const secondRetry = Date.parse(delivery.nextAttemptAt) - now.getTime();
    expect(secondRetry).toBeGreaterThanOrEqual(270_000);
    expect(secondRetry).toBeLessThanOrEqual(330_000);
    now = new Date(now.getTime() + 331_000);
    await deliver();
    [delivery] = await deliveries(tenant, endpointId);
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 3, lastStatusCode: 204 });
    expect(delivery.attemptLog.map((attempt: any) => [attempt.outcome, attempt.statusCode])).toEqual([
      ['failed', 500],
      ['failed', 500],
      ['delivered', 204],
    ]);
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(receiver.requests.every((request) => request.verified)).toBe(true);
  });

  it('410 Gone disables the endpoint', async () => {
    const { tenant, endpointId } = await setup(() => ({ status: 410 }));
    await sendThankYou(tenant);
    await deliver();
    const [delivery] = await deliveries(tenant, endpointId);
    expect(delivery).toMatchObject({ status: 'DEAD', lastStatusCode: 410, endpoint: { status: 'DISABLED' } });
  });

  it('a receiver that never answers times out and the delivery is retried', async () => {
    const { tenant, endpointId } = await setup((count) => (count === 1 ? { status: 200, hang: true } : { status: 200 }));
    await sendThankYou(tenant);
    await deliver({ timeoutMs: 300 });
    let [delivery] = await deliveries(tenant, endpointId);
    expect(delivery).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: null });
    expect(delivery.lastError).toMatch(/time/i);
    now = new Date(now.getTime() + 6_000);
    await deliver({ timeoutMs: 300 });
    [delivery] = await deliveries(tenant, endpointId);
    expect(delivery.status).toBe('DELIVERED');
  });

  it('429 with Retry-After waits as long as the receiver asks', async () => {
    const { tenant, endpointId } = await setup(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    await sendThankYou(tenant);
    await deliver();
    const [delivery] = await deliveries(tenant, endpointId);
    expect(Date.parse(delivery.nextAttemptAt) - now.getTime()).toBe(120_000);
  });

  it('after a rotation deliveries carry both signatures for 24 hours, then only the new one', async () => {
    const { tenant, receiver, secrets, endpointId } = await setup();
    const rotated = await gql(app, tenant.token, `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { previousSecretExpiresAt } } }`, { id: endpointId });
    const newSecret = rotated.data.rotateWebhookSecret.secret;
    expect(newSecret).not.toBe(secrets[0]);
    expect(rotated.data.rotateWebhookSecret.endpoint.previousSecretExpiresAt).toBe(new Date(now.getTime() + 24 * 3_600_000).toISOString());
    secrets.push(newSecret);
    await sendThankYou(tenant);
    await deliver();
    const [during] = await receiver.waitFor(1);
    expect(during!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(during!.verifiedWith.sort()).toEqual([...secrets].sort());

    now = new Date(now.getTime() + 25 * 3_600_000);
    await sendThankYou(tenant);
    await deliver();
    const after = (await receiver.waitFor(2))[1]!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(after.verifiedWith).toEqual([newSecret]);
  });

  it('a delivery that runs out of retries is dead, and can be redelivered by hand', async () => {
    let healthy = false;
    const { tenant, receiver, endpointId } = await setup(() => ({ status: healthy ? 200 : 503 }));
    await sendThankYou(tenant);
    for (let attempt = 0; attempt < 8; attempt += 1) {
      await deliver();
      now = new Date(now.getTime() + 12 * 3_600_000);
    }
    let [delivery] = await deliveries(tenant, endpointId);
    expect(delivery).toMatchObject({ status: 'DEAD', attempts: 8 });
    expect(delivery.attemptLog).toHaveLength(8);
    healthy = true;
    const redelivered = await gql(app, tenant.token, `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { status } }`, { id: delivery.id });
    expect(redelivered.data.redeliverWebhook.status).toBe('PENDING');
    await deliver();
    [delivery] = await deliveries(tenant, endpointId);
    expect(delivery.status).toBe('DELIVERED');
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(1);
    const again = await gql(app, tenant.token, `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { status } }`, { id: delivery.id });
    expect(again.data.redeliverWebhook.status).toBe('PENDING');
  });

  it('every event type is emitted by the change that causes it', async () => {
    const { tenant, receiver } = await setup();
    const received = async () => {
      await deliver();
      return receiver.requests.map((request) => (request.json as any).type as string);
    };
    // followup.sent and plan.completed: a one-interviewer plan whose company wants thanks only.
    const candidateId = await createCandidateVia(app, tenant.token);
    const done = await scheduleInterviewVia(app, tenant.token, candidateId, { ...INTERVIEW, companyName: 'Thanks Only Inc', companyFollowUpStyle: 'THANK_YOU_ONLY' });
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    await dispatchDueMessages(database.db, { mailer, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 2 });
    expect(await received()).toEqual(expect.arrayContaining(['followup.sent', 'plan.completed']));
    const completed = receiver.requests.find((request) => (request.json as any).type === 'plan.completed')!.json as any;
    expect(completed.data).toMatchObject({ interviewId: done.id, reason: 'all_steps_settled' });

    // followup.skipped: no consent. followup.due: an SMS the partner delivers.
    const noConsent = await createCandidateVia(app, tenant.token, { consent: false });
    await scheduleInterviewVia(app, tenant.token, noConsent, INTERVIEW);
    await scheduleInterviewVia(app, tenant.token, candidateId, { ...INTERVIEW, interviewers: [{ name: 'Grace Hopper', phone: '+14155550199', preferredChannel: 'SMS' }] });
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    const types = await received();
    expect(types).toEqual(expect.arrayContaining(['followup.skipped', 'followup.due']));
    const due = receiver.requests.find((request) => (request.json as any).type === 'followup.due')!.json as any;
    expect(due.data).toMatchObject({ channel: 'SMS', message: { channel: 'SMS', to: { address: '+14155550199' } } });
    // Every skipped step is told, those skipped when the plan was built too, with the rule result.
    const skipped = receiver.requests.map((request) => request.json as any).find((event) => event.type === 'followup.skipped')!;
    expect(skipped.data).toMatchObject({ kind: expect.stringMatching(/^[A-Z_]+$/), reason: expect.any(String) });
    expect(skipped.data.decisions.some((decision: any) => decision.outcome === 'BLOCK')).toBe(true);
    expect(due.data.message.body).toContain('Grace');

    // followup.awaiting_approval: a policy that reviews thank-yous.
    await gql(app, tenant.token, `mutation { updatePolicy(document: { thankYou: { approval: "review" } }) { version } }`);
    await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    expect(await received()).toContain('followup.awaiting_approval');

    // followup.failed: a hard bounce. plan.cancelled: the interview is called off.
    await gql(app, tenant.token, `mutation { updatePolicy(document: { thankYou: { approval: "auto" } }) { version } }`);
    sink.setResponder((event) => (event.stage === 'rcpt' ? { code: 550, message: '5.1.1 Unknown user' } : null));
    try {
      await sendThankYou(tenant);
    } finally {
      sink.setResponder(null);
    }
    const cancelled = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await gql(app, tenant.token, `mutation ($id: ID!) { cancelInterview(id: $id) { id } }`, { id: cancelled.id });
    expect(await received()).toEqual(expect.arrayContaining(['followup.failed', 'plan.cancelled']));
    // The newer events spell their values as GraphQL does too (the step kind; a DSN status stays as written).
    const failed = receiver.requests.map((request) => request.json as any).find((event) => event.type === 'followup.failed')!;
    expect(failed.data).toMatchObject({ kind: 'THANK_YOU', recipient: { email: expect.any(String) } });
    expect(receiver.requests.every((request) => request.verified)).toBe(true);
  });

  it('an endpoint receives only the events it asked for', async () => {
    const { tenant, endpointId } = await setup(undefined, ['plan.cancelled']);
    await sendThankYou(tenant);
    await deliver();
    expect(await deliveries(tenant, endpointId)).toEqual([]);
  });

  it('a deleted endpoint gets nothing more', async () => {
    const { tenant, receiver, endpointId } = await setup();
    await sendThankYou(tenant);
    const deleted = await gql(app, tenant.token, `mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) { status } }`, { id: endpointId });
    expect(deleted.data.deleteWebhookEndpoint.status).toBe('DELETED');
    await deliver();
    expect(receiver.requests).toHaveLength(0);
    expect((await deliveries(tenant, endpointId))[0]).toMatchObject({ status: 'DEAD', lastError: 'endpoint deleted' });
  });

  it('the worker refuses a private target at delivery time unless private targets are allowed', async () => {
    const { tenant, receiver, endpointId } = await setup();
    await sendThankYou(tenant);
    await deliver({ allowPrivate: false });
    expect(receiver.requests).toHaveLength(0);
    const [delivery] = await deliveries(tenant, endpointId);
    expect(delivery.status).toBe('DEAD');
    expect(delivery.attemptLog[0].outcome).toBe('refused');
  });

  describe('registration refuses private and unsafe targets', () => {
    let strict: FastifyInstance;
    let tenant: TestTenant;
    beforeAll(async () => {
      strict = await createTestApp(database.db, { clock: () => now, webhooks: { allowPrivate: false, requireHttps: true } });
      tenant = await createTestTenant(database.db);
    });
    afterAll(async () => {
      await strict?.close();
    });

    it.each([
      ['http://partner.example/hooks', /https/],
      ['https://127.0.0.1/hooks', /loopback/],
      ['https://[::1]/hooks', /loopback/],
      ['https://localhost/hooks', /loopback/],
      ['https://10.1.2.3/hooks', /private/],
      ['https://172.16.0.9/hooks', /private/],
      ['https://192.168.1.1/hooks', /private/],
      ['https://169.254.169.254/latest/meta-data', /metadata|link-local/],
      ['https://[fe80::1]/hooks', /link-local/],
      ['https://[::ffff:10.0.0.1]/hooks', /private/],
      ['https://100.64.0.1/hooks', /carrier/i],
      ['https://user:pass@partner.example/hooks', /credentials/],
      ['ftp://partner.example/hooks', /http/],
    ])('%s', async (url, reason) => {
      const refused = await gql(strict, tenant.token, REGISTER, { url });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
      expect(refused.errors?.[0]?.message).toMatch(reason);
    });

    it('accepts a public https URL', async () => {
      const accepted = await gql(strict, tenant.token, REGISTER, { url: 'https://hooks.partner.example/afterview' });
      expect(accepted.data.registerWebhookEndpoint.endpoint.url).toBe('https://hooks.partner.example/afterview');
    });
  });
});
