import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMailer, DEFAULT_POOL_CONNECTIONS, type Mailer } from '../../src/mail/mailer.js';
import { dispatchDueMessages } from '../../src/services/message-dispatch.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { cancelPendingWork } from '../support/due-messages.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

// The delivery pipeline in-process against a real SMTP server on loopback: the worker's two
// use-cases (evaluate due steps, dispatch messages) run by hand under a controlled clock.

const INTERVIEW = { startsAt: '2026-03-03T14:00:00Z', endsAt: '2026-03-03T15:00:00Z' };
const PLAN = /* GraphQL */ `
  query ($id: ID!) {
    interview(id: $id) {
      followUpPlan {
        id status
        steps { id kind status reason late recipient { name email } decisions { rule outcome } message { id status subject body to from replyTo messageIdHeader inReplyTo attempts lastError lintFindings { rule level detail } } }
      }
    }
  }
`;

describe.each(testDatabaseKinds())('delivery on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let sink: SmtpSink;
  let mailer: Mailer;
  let now: Date;
  const spell = createEnglishSpellChecker();
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db, { clock: () => now });
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
  });
  afterAll(async () => {
    await mailer?.close();
    await sink?.close();
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    now = new Date('2026-03-03T16:00:00Z');
    sink.reset();
    sink.setResponder(null);
    await cancelPendingWork(database.db);
  });

  /** A tenant whose policy sends at any hour, right after the interview. */
  async function sandboxTenant(policy: Record<string, unknown> = {}): Promise<TestTenant> {
    const tenant = await createTestTenant(database.db);
    const updated = await gql(app, tenant.token, `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`, {
      d: { businessHours: 'always', thankYou: { delayMinutes: 0 }, ...policy },
    });
    expect(updated.errors).toBeUndefined();
    return tenant;
  }

  async function runWorker() {
    const evaluated = await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    const dispatched = await dispatchDueMessages(database.db, { mailer, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 4 });
    return { evaluated, dispatched };
  }

  async function planOf(token: string, interviewId: string) {
    const result = await gql(app, token, PLAN, { id: interviewId });
    expect(result.errors).toBeUndefined();
    return result.data.interview.followUpPlan;
  }

  const stepOf = (plan: any, kind: string, name?: string) => plan.steps.find((step: any) => step.kind === kind && (!name || step.recipient.name === name));

  it('sends one thank-you per interviewer, from the candidate via the tenant, with a fixed Message-ID', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const { evaluated, dispatched } = await runWorker();
    expect(evaluated.decisions.send).toBe(2);
    expect(dispatched.sent).toBe(2);

    const received = await sink.waitForMessages(2);
    const plan = await planOf(tenant.token, interview.id);
    for (const name of ['Grace Hopper', 'Alan Turing']) {
      const step = stepOf(plan, 'THANK_YOU', name);
      expect(step.status).toBe('SENT');
      expect(step.message.status).toBe('SENT');
      const mail = received.find((m) => m.messageId === step.message.messageIdHeader)!;
      expect(mail.envelope.rcptTo).toEqual([step.recipient.email]);
      expect(mail.headers.get('from')).toMatchObject({ value: [{ name: `Ada Lovelace via ${tenant.slug}`, address: `${tenant.slug}@afterview.test` }] });
      expect(mail.headers.get('reply-to')).toMatchObject({ value: [{ name: 'Ada Lovelace', address: 'ada@example.com' }] });
      expect(mail.subject).toContain('Senior Data Engineer');
      // Our letters greet by first name (policy writing.greeting "first_name").
      expect(mail.text).toContain(`Dear ${name.split(' ')[0]},`);
      expect(mail.text).toContain('ada@example.com');
      expect(mail.text).not.toContain(name === 'Grace Hopper' ? 'Alan Turing' : 'Grace Hopper');
    }
    // Check-ins are a week away: nothing more goes now.
    expect((await runWorker()).dispatched.claimed).toBe(0);
  });

  it('threads the check-in to the thank-you (In-Reply-To, References, "Re:") and sends the final check-in two weeks later', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await runWorker();
    const thankYou = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU', 'Grace Hopper');

    now = new Date('2026-03-11T12:00:00Z');
    sink.reset();
    await runWorker();
    const [checkInMail] = await sink.waitForMessages(1);
    expect(checkInMail!.envelope.rcptTo).toEqual(['grace.hopper@northwind.example']);
    expect(checkInMail!.headers.get('in-reply-to')).toBe(thankYou.message.messageIdHeader);
    expect(checkInMail!.headers.get('references')).toBe(thankYou.message.messageIdHeader);
    expect(checkInMail!.subject).toBe(`Re: ${thankYou.message.subject}`);

    now = new Date('2026-03-26T12:00:00Z');
    sink.reset();
    await runWorker();
    const [finalMail] = await sink.waitForMessages(1);
    expect(finalMail!.text).toMatch(/next steps|timeline/i);
    const plan = await planOf(tenant.token, interview.id);
    expect(plan.status).toBe('COMPLETED');
    expect(plan.steps.every((step: any) => step.status === 'SENT')).toBe(true);
  });

  it('S1 a reply from the employer stops the check-ins but not a pending thank-you to another interviewer', async () => {
    const tenant = await sandboxTenant({ thankYou: { delayMinutes: 120 } });
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const reply = await gql(
      app,
      tenant.token,
      `mutation ($input: RecordReplyInput!) { recordReply(input: $input) { fromEmployer cancelledSteps { kind status reason } respondToConcernsStep { id } } }`,
      { input: { interviewId: interview.id, fromEmail: 'grace.hopper@northwind.example' } },
    );
    expect(reply.errors).toBeUndefined();
    expect(reply.data.recordReply.fromEmployer).toBe(true);
    expect(reply.data.recordReply.cancelledSteps.map((step: any) => [step.kind, step.status, step.reason])).toEqual([
      ['CHECK_IN', 'CANCELLED', 'employer_replied'],
      ['FINAL_CHECK_IN', 'CANCELLED', 'employer_replied'],
    ]);
    expect(reply.data.recordReply.respondToConcernsStep).toBeNull();

    now = new Date('2026-04-30T12:00:00Z');
    now = new Date('2026-03-03T17:00:00Z');
    await runWorker();
    expect((await sink.waitForMessages(2)).length).toBe(2);
    now = new Date('2026-04-30T12:00:00Z');
    sink.reset();
    const later = await runWorker();
    expect(later.evaluated.claimed).toBe(0);
    expect(sink.messages).toHaveLength(0);
  });

  it('a reply from the candidate’s own address changes nothing', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const reply = await gql(app, tenant.token, `mutation ($input: RecordReplyInput!) { recordReply(input: $input) { fromEmployer cancelledSteps { id } } }`, {
      input: { interviewId: interview.id, fromEmail: 'ADA@example.com' },
    });
    expect(reply.data.recordReply).toEqual({ fromEmployer: false, cancelledSteps: [] });
  });

  it('S2 a reply raising concerns adds an answer for the candidate, held for review', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const reply = await gql(
      app,
      tenant.token,
      `mutation ($input: RecordReplyInput!) { recordReply(input: $input) { respondToConcernsStep { kind status recipient { name email } message { status body } } } }`,
      { input: { interviewId: interview.id, fromEmail: 'alan.turing@northwind.example', raisesConcerns: true } },
    );
    const step = reply.data.recordReply.respondToConcernsStep;
    expect(step).toMatchObject({ kind: 'RESPOND_TO_CONCERNS', status: 'AWAITING_APPROVAL', recipient: { name: 'Alan Turing' }, message: { status: 'HELD' } });
    expect(step.message.body).toContain('Dear Alan,');
  });

  it('S3 an offer stops the check-ins but the thank-you not yet sent still goes', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const outcome = await gql(app, tenant.token, `mutation ($id: ID!) { recordOutcome(interviewId: $id, outcome: OFFER) { outcome } }`, { id: interview.id });
    expect(outcome.data.recordOutcome.outcome).toBe('OFFER');
    await runWorker();
    expect(await sink.waitForMessages(2)).toHaveLength(2);
    const plan = await planOf(tenant.token, interview.id);
    expect(plan.steps.map((step: any) => [step.kind, step.status, step.reason])).toEqual([
      ['THANK_YOU', 'SENT', null],
      ['THANK_YOU', 'SENT', null],
      ['CHECK_IN', 'CANCELLED', 'outcome_offer'],
      ['FINAL_CHECK_IN', 'CANCELLED', 'outcome_offer'],
    ]);
    expect(plan.status).toBe('COMPLETED');
  });

  it('S3 a rejection with keepInTouch on adds one note to the primary contact; a withdrawal cancels everything', async () => {
    const tenant = await sandboxTenant({ keepInTouch: { enabled: true, approval: 'auto' } });
    const candidateId = await createCandidateVia(app, tenant.token);
    const rejected = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await gql(app, tenant.token, `mutation ($id: ID!) { recordOutcome(interviewId: $id, outcome: REJECTED) { id } }`, { id: rejected.id });
    const keepInTouch = stepOf(await planOf(tenant.token, rejected.id), 'KEEP_IN_TOUCH');
    expect(keepInTouch).toMatchObject({ status: 'SCHEDULED', recipient: { name: 'Grace Hopper' } });

    const withdrawn = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await gql(app, tenant.token, `mutation ($id: ID!) { recordOutcome(interviewId: $id, outcome: WITHDRAWN) { id } }`, { id: withdrawn.id });
    const plan = await planOf(tenant.token, withdrawn.id);
    expect(plan.status).toBe('CANCELLED');
    expect(plan.steps.every((step: any) => step.status === 'CANCELLED' && step.reason === 'withdrawn')).toBe(true);
  });

  it('S6 without consent nothing is sent: each step is skipped when it falls due', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token, { consent: false });
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const { evaluated } = await runWorker();
    expect(evaluated.decisions.skip).toBe(2);
    expect(sink.messages).toHaveLength(0);
    const plan = await planOf(tenant.token, interview.id);
    expect(stepOf(plan, 'THANK_YOU').reason).toBe('no_consent');
  });

  it('S6 a hard bounce (550) fails the message and suppresses the address; a transient 451 is retried', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    sink.setResponder((event) => {
      if (event.stage !== 'rcpt') return null;
      if (event.address === 'alan.turing@northwind.example') return { code: 550, message: '5.1.1 No such user' };
      if (event.address === 'grace.hopper@northwind.example' && event.ordinal <= 2) return { code: 451, message: '4.3.0 Try later' };
      return null;
    });
    const first = await runWorker();
    expect(first.dispatched).toMatchObject({ sent: 0, retried: 1, dead: 1 });
    let plan = await planOf(tenant.token, interview.id);
    expect(stepOf(plan, 'THANK_YOU', 'Alan Turing')).toMatchObject({ status: 'FAILED', reason: 'permanent_failure', message: { status: 'DEAD' } });
    expect(stepOf(plan, 'THANK_YOU', 'Grace Hopper').message).toMatchObject({ status: 'RETRY', attempts: 1 });
    expect(stepOf(plan, 'THANK_YOU', 'Grace Hopper').message.lastError).toContain('451');

    now = new Date(now.getTime() + 60 * 60_000);
    const second = await runWorker();
    expect(second.dispatched.sent).toBe(1);
    plan = await planOf(tenant.token, interview.id);
    expect(stepOf(plan, 'THANK_YOU', 'Grace Hopper')).toMatchObject({ status: 'SENT', message: { status: 'SENT', attempts: 2 } });

    // The suppressed address gets nothing from a later interview (S6).
    sink.setResponder(null);
    sink.reset();
    const next = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const nextPlan = await planOf(tenant.token, next.id);
    await runWorker();
    expect(sink.messages.map((m) => m.envelope.rcptTo[0])).toEqual(['grace.hopper@northwind.example']);
    const after = await planOf(tenant.token, next.id);
    expect(stepOf(after, 'THANK_YOU', 'Alan Turing')).toMatchObject({ status: 'SKIPPED', reason: 'suppressed' });
    expect(nextPlan.id).toBe(after.id);
  });

  it('S6 an address the partner suppressed (an opt-out) gets nothing until the suppression is lifted', async () => {
    const tenant = await sandboxTenant();
    const suppressed = await gql(app, tenant.token, `mutation { suppressAddress(address: "Alan.Turing@Northwind.example") { address reason } }`);
    expect(suppressed.data.suppressAddress).toEqual({ address: 'alan.turing@northwind.example', reason: 'OPT_OUT' });
    const refused = await gql(app, tenant.token, `mutation { suppressAddress(address: "not an address") { address } }`);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'address' });
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await runWorker();
    expect(sink.messages.map((m) => m.envelope.rcptTo[0])).toEqual(['grace.hopper@northwind.example']);
    expect(stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU', 'Alan Turing')).toMatchObject({ status: 'SKIPPED', reason: 'suppressed' });
    const listed = await gql(app, tenant.token, `{ suppressions { edges { node { address reason } } } }`);
    expect(listed.data.suppressions.edges).toEqual([{ node: { address: 'alan.turing@northwind.example', reason: 'OPT_OUT' } }]);
    const lifted = await gql(app, tenant.token, `mutation { unsuppressAddress(address: "alan.turing@northwind.example") { address } }`);
    expect(lifted.errors).toBeUndefined();
    expect((await gql(app, tenant.token, `{ suppressions { edges { node { address } } } }`)).data.suppressions.edges).toEqual([]);
    const again = await gql(app, tenant.token, `mutation { unsuppressAddress(address: "alan.turing@northwind.example") { address } }`);
    expect(again.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('review: a held message is approved (edited, linted again) and sent; a discarded one never goes', async () => {
    const tenant = await sandboxTenant({ thankYou: { delayMinutes: 0, approval: 'review' } });
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const { evaluated } = await runWorker();
    expect(evaluated.decisions.hold).toBe(2);
    expect(sink.messages).toHaveLength(0);
    let plan = await planOf(tenant.token, interview.id);
    const grace = stepOf(plan, 'THANK_YOU', 'Grace Hopper');
    const alan = stepOf(plan, 'THANK_YOU', 'Alan Turing');
    expect(grace).toMatchObject({ status: 'AWAITING_APPROVAL', message: { status: 'HELD' } });

    const pushy = await gql(app, tenant.token, `mutation ($id: ID!, $body: String) { approveMessage(id: $id, body: $body) { status } }`, {
      id: grace.message.id,
      body: `Dear Grace Hopper,\n\nPlease reply ASAP about streaming pipelines.\n\nAda Lovelace\nada@example.com`,
    });
    expect(pushy.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(pushy.errors?.[0]?.message).toContain('L6');

    const edited = grace.message.body.replace('Dear Grace,\n\n', 'Dear Grace,\n\nMany thanks for taking the time to meet. ');
    const approved = await gql(app, tenant.token, `mutation ($id: ID!, $body: String) { approveMessage(id: $id, body: $body) { status body } }`, {
      id: grace.message.id,
      body: edited,
    });
    expect(approved.errors).toBeUndefined();
    expect(approved.data.approveMessage).toEqual({ status: 'QUEUED', body: edited });
    await runWorker();
    const [mail] = await sink.waitForMessages(1);
    expect(mail!.text).toContain('Many thanks for taking the time to meet.');

    const discarded = await gql(app, tenant.token, `mutation ($id: ID!) { discardMessage(id: $id) { status } }`, { id: alan.message.id });
    expect(discarded.data.discardMessage.status).toBe('DISCARDED');
    plan = await planOf(tenant.token, interview.id);
    expect(stepOf(plan, 'THANK_YOU', 'Alan Turing')).toMatchObject({ status: 'CANCELLED', reason: 'discarded' });
    const again = await gql(app, tenant.token, `mutation ($id: ID!) { approveMessage(id: $id) { status } }`, { id: alan.message.id });
    expect(again.errors?.[0]?.extensions.code).toBe('CONFLICT');
  });

  it('T1 approving after the thank-you window has passed is refused, and the step is skipped', async () => {
    const tenant = await sandboxTenant({ thankYou: { delayMinutes: 0, approval: 'review' } });
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await runWorker();
    const grace = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU', 'Grace Hopper');
    now = new Date('2026-03-07T12:00:00Z');
    const late = await gql(app, tenant.token, `mutation ($id: ID!) { approveMessage(id: $id) { status } }`, { id: grace.message.id });
    expect(late.errors?.[0]?.extensions.code).toBe('CONFLICT');
    expect(late.errors?.[0]?.message).toContain('window has passed');
    const after = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU', 'Grace Hopper');
    expect(after).toMatchObject({ status: 'SKIPPED', reason: 'window_missed', message: { status: 'CANCELLED' } });
  });

  it('L3 a tenant template with a leftover placeholder holds the message in NEEDS_REVIEW with its findings', async () => {
    const tenant = await sandboxTenant({
      // updatePolicy refuses a placeholder its sample interview shows; this one shows only for an
      // interview without a resource link (the sample has one), so it is caught when the letter is written.
      templates: {
        thankYou: { body: 'Dear {{recipient.name}},\n\nThank you{{^resourceUrl}}, [Name],{{/resourceUrl}} for the chat about the {{position.title}} role.\n\n{{candidate.signature}}' },
      },
    });
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await runWorker();
    expect(sink.messages).toHaveLength(0);
    const grace = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU', 'Grace Hopper');
    expect(grace).toMatchObject({ status: 'NEEDS_REVIEW', reason: 'lint_errors', message: { status: 'HELD' } });
    expect(grace.message.lintFindings).toEqual(expect.arrayContaining([expect.objectContaining({ rule: 'L3', level: 'ERROR' })]));
    const unchanged = await gql(app, tenant.token, `mutation ($id: ID!) { approveMessage(id: $id) { status } }`, { id: grace.message.id });
    expect(unchanged.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const fixed = await gql(app, tenant.token, `mutation ($id: ID!, $body: String) { approveMessage(id: $id, body: $body) { status lintFindings { rule level } } }`, {
      id: grace.message.id,
      body: grace.message.body.replace('[Name]', 'Grace'),
    });
    expect(fixed.data.approveMessage.status).toBe('QUEUED');
  });

  it('pausing holds due steps; resuming evaluates them from now', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const planId = (await planOf(tenant.token, interview.id)).id;
    const paused = await gql(app, tenant.token, `mutation ($id: ID!) { pauseFollowUpPlan(id: $id) { status steps { status } } }`, { id: planId });
    expect(paused.data.pauseFollowUpPlan.status).toBe('PAUSED');
    expect(paused.data.pauseFollowUpPlan.steps.every((step: any) => step.status === 'SCHEDULED')).toBe(true);
    expect((await runWorker()).evaluated.claimed).toBe(0);
    const twice = await gql(app, tenant.token, `mutation ($id: ID!) { pauseFollowUpPlan(id: $id) { status } }`, { id: planId });
    expect(twice.errors?.[0]?.extensions.code).toBe('CONFLICT');

    now = new Date('2026-03-04T09:00:00Z');
    const resumed = await gql(app, tenant.token, `mutation ($id: ID!) { resumeFollowUpPlan(id: $id) { status } }`, { id: planId });
    expect(resumed.data.resumeFollowUpPlan.status).toBe('ACTIVE');
    await runWorker();
    expect(await sink.waitForMessages(2)).toHaveLength(2);
  });

  it('cancelling a plan stops everything pending, and it cannot be cancelled twice', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const planId = (await planOf(tenant.token, interview.id)).id;
    const cancelled = await gql(app, tenant.token, `mutation ($id: ID!) { cancelFollowUpPlan(id: $id, reason: "candidate asked") { status statusReason } }`, { id: planId });
    expect(cancelled.data.cancelFollowUpPlan).toEqual({ status: 'CANCELLED', statusReason: 'candidate asked' });
    await runWorker();
    expect(sink.messages).toHaveLength(0);
    const again = await gql(app, tenant.token, `mutation ($id: ID!) { cancelFollowUpPlan(id: $id) { status } }`, { id: planId });
    expect(again.errors?.[0]?.extensions.code).toBe('CONFLICT');
  });

  it('C4 a partner-delivered SMS waits for markStepDelivered, then counts as sent', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, {
      ...INTERVIEW,
      interviewers: [{ name: 'Grace Hopper', phone: '+14155550199', preferredChannel: 'SMS', isPrimaryContact: true }],
    });
    await runWorker();
    expect(sink.messages).toHaveLength(0);
    const step = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU');
    expect(step).toMatchObject({ status: 'QUEUED', message: { status: 'AWAITING_DELIVERY', to: '+14155550199' } });
    const delivered = await gql(app, tenant.token, `mutation ($id: ID!) { markStepDelivered(id: $id) { status sentAt message { status } } }`, { id: step.id });
    expect(delivered.data.markStepDelivered).toMatchObject({ status: 'SENT', message: { status: 'SENT' } });
    const twice = await gql(app, tenant.token, `mutation ($id: ID!) { markStepDelivered(id: $id) { status } }`, { id: step.id });
    expect(twice.errors?.[0]?.extensions.code).toBe('CONFLICT');
  });

  it('markStepDelivered refuses an email step', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const step = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU');
    const refused = await gql(app, tenant.token, `mutation ($id: ID!) { markStepDelivered(id: $id) { status } }`, { id: step.id });
    expect(refused.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('a configuration error (SMTP auth) keeps the message’s attempts and retries later', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, {
      ...INTERVIEW,
      interviewers: [{ name: 'Grace Hopper', email: 'grace@northwind.example' }],
    });
    const authSink = await startSmtpSink({ auth: { user: 'right', pass: 'right' } });
    const badMailer = createMailer({ smtpUrl: authSink.url.replace('smtp://', 'smtp://wrong:wrong@'), outboxDir: '/tmp/unused', log });
    try {
      await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
      const result = await dispatchDueMessages(database.db, { mailer: badMailer, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 1 });
      expect(result.retried).toBe(1);
      const message = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU').message;
      expect(message).toMatchObject({ status: 'RETRY', attempts: 0 });
    } finally {
      await badMailer.close();
      await authSink.close();
    }
  });

  it('a lease left by a worker that died is taken over: the message goes once, with its Message-ID', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, {
      ...INTERVIEW,
      interviewers: [{ name: 'Grace Hopper', email: 'grace@northwind.example' }],
    });
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    // A worker claims the message and dies before sending: its mailer never answers.
    const dead = { kind: 'smtp' as const, send: () => new Promise<never>(() => {}), close: async () => {} };
    void dispatchDueMessages(database.db, { mailer: dead, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await runWorker()).dispatched.claimed).toBe(0);
    now = new Date(now.getTime() + 61_000);
    expect((await runWorker()).dispatched.sent).toBe(1);
    const step = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU');
    expect(step.message).toMatchObject({ status: 'SENT', attempts: 2 });
    expect(sink.messages.map((m) => m.messageId)).toEqual([step.message.messageIdHeader]);
  });

  /** Interviews whose thank-yous are all due now, evaluated into queued messages. */
  async function queuedThankYous(tenant: TestTenant, interviews: number, perInterview: number): Promise<void> {
    const candidateId = await createCandidateVia(app, tenant.token);
    for (let i = 0; i < interviews; i += 1) {
      await scheduleInterviewVia(app, tenant.token, candidateId, {
        ...INTERVIEW,
        interviewers: Array.from({ length: perInterview }, (_, j) => ({ name: `Person ${i}-${j}`, email: `person-${i}-${j}@northwind.example` })),
      });
    }
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
  }

  it('with a handover window of 1, hands messages over one at a time: each is recorded as accepted before the server has the end of the next', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 4, 3);
    const unrecordedAtHandover: string[] = [];
    let holding = 0;
    let mostHeldAtOnce = 0;
    sink.setResponder(async (event) => {
      if (event.stage !== 'data') return null;
      // The server holds this whole message now; every one it took before must be known to us,
      // and no other may be in the same state.
      mostHeldAtOnce = Math.max(mostHeldAtOnce, ++holding);
      const earlier = sink.messages.map((message) => message.messageId!);
      const { rows } = await sql<{ message_id_header: string }>`
        SELECT message_id_header FROM messages WHERE message_id_header = ANY(${earlier}) AND accepted_at IS NULL`.execute(database.db);
      unrecordedAtHandover.push(...rows.map((row) => row.message_id_header));
      await new Promise((resolve) => setTimeout(resolve, 5)); // time for the other connections to race
      holding -= 1;
      return null;
    });
    const pooled = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log, pool: { maxConnections: 4 } });
    try {
      const result = await dispatchDueMessages(database.db, { mailer: pooled, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 8, handoverWindow: 1 });
      expect(result.sent).toBe(12);
    } finally {
      await pooled.close();
    }
    expect(sink.stats.maxOpenConnections).toBeGreaterThan(1);
    expect(new Set(sink.messages.map((message) => message.messageId)).size).toBe(12);
    expect(unrecordedAtHandover).toEqual([]);
    expect(mostHeldAtOnce).toBe(1);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${tenant.id} AND status = 'sent' AND accepted_at IS NOT NULL`.execute(database.db);
    expect(rows[0]!.n).toBe(12);
  });

  it('by default, hands over at most one message per pool connection before their acceptances are recorded', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 4, 3);
    let holding = 0;
    let mostHeldAtOnce = 0;
    sink.setResponder(async (event) => {
      if (event.stage !== 'data') return null;
      mostHeldAtOnce = Math.max(mostHeldAtOnce, ++holding);
      await new Promise((resolve) => setTimeout(resolve, 5));
      holding -= 1;
      return null;
    });
    // The mailer's default pool, and no window given: the default is one per connection.
    const pooled = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
    try {
      const result = await dispatchDueMessages(database.db, { mailer: pooled, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 8 });
      expect(result.sent).toBe(12);
    } finally {
      await pooled.close();
    }
    expect(new Set(sink.messages.map((message) => message.messageId)).size).toBe(12);
    expect(sink.messages).toHaveLength(12);
    expect(mostHeldAtOnce).toBeLessThanOrEqual(DEFAULT_POOL_CONNECTIONS);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${tenant.id} AND status = 'sent' AND accepted_at IS NOT NULL`.execute(database.db);
    expect(rows[0]!.n).toBe(12);
  });

  it('a message whose lease runs low while it waits in line is not handed over: it is given back and goes once, later', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 1, 3);
    // The server takes 1 s over each message; leases last 1.5 s, and a message is handed over
    // only with half of its lease left. One message at a time goes (a window of 1), so the others wait in line. The heartbeat cannot renew them in time (as when the
    // database is slow): the second and third in line are given back.
    sink.setResponder(async (event) => (event.stage === 'data' ? (await new Promise((resolve) => setTimeout(resolve, 1_000)), null) : null));
    const clock = () => new Date();
    let released = 0;
    for (let run = 0; run < 8 && sink.messages.length < 3; run += 1) {
      const result = await dispatchDueMessages(database.db, { mailer, clock, log, batchSize: 100, leaseMs: 1_500, heartbeatMs: 60_000, concurrency: 3, handoverWindow: 1 });
      released += result.released;
    }
    expect(released).toBeGreaterThan(0);
    const ids = sink.messages.map((message) => message.messageId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    const { rows } = await sql<{ status: string; attempts: number }>`SELECT status, attempts FROM messages WHERE tenant_id = ${tenant.id}`.execute(database.db);
    // Giving a lease back does not count as an attempt.
    expect(rows).toEqual(Array.from({ length: 3 }, () => ({ status: 'sent', attempts: 1 })));
  });

  it('the heartbeat keeps the leases of messages held while the dispatch runs: no other worker takes them, each goes once', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 1, 3);
    // Same slow server and short leases as above, now with a heartbeat: nothing runs low.
    sink.setResponder(async (event) => (event.stage === 'data' ? (await new Promise((resolve) => setTimeout(resolve, 1_000)), null) : null));
    const clock = () => new Date();
    const first = dispatchDueMessages(database.db, { mailer, clock, log, batchSize: 100, leaseMs: 1_500, heartbeatMs: 250, concurrency: 3 });
    // Another worker looks for due messages well after the first leases would have run out.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const other = await dispatchDueMessages(database.db, { mailer, clock, log, batchSize: 100, leaseMs: 1_500, concurrency: 3 });
    const result = await first;
    expect(other.claimed).toBe(0);
    expect(result).toMatchObject({ claimed: 3, sent: 3, released: 0 });
    expect(new Set(sink.messages.map((message) => message.messageId)).size).toBe(3);
    expect(sink.messages).toHaveLength(3);
  }, 30_000);

  it('claims are sized to what the process sends in a few seconds, not the whole batch size', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 8, 10);
    let mostClaimed = 0;
    sink.setResponder(async (event) => {
      if (event.stage !== 'data') return null;
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${tenant.id} AND status = 'sending'`.execute(database.db);
      mostClaimed = Math.max(mostClaimed, rows[0]!.n);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return null;
    });
    // A 2 s lease: a claim holds about half a second of sending (a quarter of the lease).
    const result = await dispatchDueMessages(database.db, { mailer, clock: () => new Date(), log, batchSize: 500, leaseMs: 2_000, concurrency: 2 });
    expect(result.sent).toBe(80);
    expect(new Set(sink.messages.map((message) => message.messageId)).size).toBe(80);
    expect(mostClaimed).toBeLessThan(80);
  });

  it('a message the server took before its worker died is recorded as sent, not sent again', async () => {
    const tenant = await sandboxTenant();
    await queuedThankYous(tenant, 1, 1);
    // A worker claimed it, the server accepted it, the acceptance was recorded, and the worker
    // died before the rest: its lease has run out since.
    const acceptedAt = new Date(now.getTime() - 90_000);
    await sql`UPDATE messages SET status = 'sending', attempts = 1, accepted_at = ${acceptedAt}, next_attempt_at = ${new Date(now.getTime() - 1000)}
      WHERE tenant_id = ${tenant.id}`.execute(database.db);
    const { dispatched } = await runWorker();
    expect(dispatched).toMatchObject({ claimed: 1, sent: 1 });
    expect(sink.messages).toHaveLength(0);
    const { rows } = await sql<{ status: string; attempts: number; sent_at: Date; step_status: string }>`
      SELECT m.status, m.attempts, m.sent_at, s.status AS step_status FROM messages m JOIN follow_up_steps s ON s.tenant_id = m.tenant_id AND s.id = m.step_id
      WHERE m.tenant_id = ${tenant.id}`.execute(database.db);
    expect(rows).toEqual([{ status: 'sent', attempts: 1, sent_at: acceptedAt, step_status: 'sent' }]);
  });

  it('every transition leaves an audit event with the decisions behind it', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await runWorker();
    const step = stepOf(await planOf(tenant.token, interview.id), 'THANK_YOU', 'Grace Hopper');
    const audit = async (id: string) =>
      (await gql(app, tenant.token, `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { actor action data } } } }`, { id })).data.auditEvents.edges.map(
        (edge: any) => edge.node,
      );
    const stepEvents = await audit(step.id);
    expect(stepEvents.map((event: any) => event.action)).toEqual(['step.planned', 'step.evaluated', 'step.sent']);
    expect(stepEvents[1]).toMatchObject({ actor: 'worker', data: { decision: 'send', channel: 'email' } });
    expect(stepEvents[1].data.rules.map((rule: any) => rule.rule)).toEqual(expect.arrayContaining(['T1', 'T2', 'T5', 'T6', 'S6', 'C1']));
    const messageEvents = await audit(step.message.id);
    expect(messageEvents.map((event: any) => event.action)).toEqual(['message.created', 'message.sent']);
    expect(messageEvents[1].data).toMatchObject({ attempts: 1, messageIdHeader: step.message.messageIdHeader });
  });

  it('lists messages by status and reads one', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    await runWorker();
    const sent = await gql(app, tenant.token, `{ messages(filter: { status: SENT }) { edges { node { id status step { kind } } } } }`);
    expect(sent.data.messages.edges).toHaveLength(2);
    expect(sent.data.messages.edges.every((edge: any) => edge.node.step.kind === 'THANK_YOU')).toBe(true);
    const one = await gql(app, tenant.token, `query ($id: ID!) { message(id: $id) { id status } }`, { id: sent.data.messages.edges[0].node.id });
    expect(one.data.message.status).toBe('SENT');
  });

  it('REST /v1/replies and /v1/outcomes have the same effects as the mutations', async () => {
    const tenant = await sandboxTenant();
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, INTERVIEW);
    const headers = { authorization: `Bearer ${tenant.token}` };
    const reply = await app.inject({ method: 'POST', url: '/v1/replies', headers, payload: { interviewId: interview.id, fromEmail: 'grace.hopper@northwind.example' } });
    expect(reply.statusCode).toBe(201);
    expect(reply.json()).toMatchObject({ fromEmployer: true, cancelledStepIds: expect.any(Array) });
    expect(reply.json().cancelledStepIds).toHaveLength(2);
    const bad = await app.inject({ method: 'POST', url: '/v1/replies', headers, payload: { interviewId: interview.id, fromEmail: 'not-an-email' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'fromEmail' });
    const outcome = await app.inject({ method: 'POST', url: '/v1/outcomes', headers, payload: { interviewId: interview.id, outcome: 'HIRED' } });
    expect(outcome.statusCode).toBe(200);
    expect(outcome.json()).toMatchObject({ interviewId: interview.id, outcome: 'HIRED' });
    const unknown = await app.inject({ method: 'POST', url: '/v1/outcomes', headers, payload: { interviewId: interview.id, outcome: 'MAYBE' } });
    expect(unknown.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'outcome' });
    const missing = await app.inject({ method: 'POST', url: '/v1/outcomes', headers, payload: { interviewId: '01a20000-0000-7000-8000-000000000000', outcome: 'HIRED' } });
    expect(missing.statusCode).toBe(404);
  });
});
