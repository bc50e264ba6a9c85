import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant, tokenFor } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// A fixed "now" before the interview (Tuesday 3 March 2026, 15:00–16:00 in Berlin).
const NOW = new Date('2026-03-01T12:00:00Z');

const STEP_FIELDS = 'id kind channel status reason dueAt windowEndsAt late recipient { name email timezone interviewerId } decisions { rule outcome detail }';
const PLAN_OF = /* GraphQL */ `
  query ($id: ID!) { interview(id: $id) { followUpPlan { id status statusReason steps { ${STEP_FIELDS} } } } }
`;
const PREVIEW = /* GraphQL */ `
  query ($id: ID!) { previewFollowUpPlan(interviewId: $id) { kind channel status reason dueAt windowEndsAt recipient { name email timezone interviewerId } decisions { rule outcome detail } } }
`;

describe.each(testDatabaseKinds())('follow-up plans on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  let candidateId: string;
  let now = NOW;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db, { clock: () => now });
    tenant = await createTestTenant(database.db);
    candidateId = await createCandidateVia(app, tenant.token);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const planOf = async (interviewId: string, token = tenant.token) => (await gql(app, token, PLAN_OF, { id: interviewId })).data.interview.followUpPlan;

  it('scheduling an interview creates its plan with every step, timed by the rules', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, {
      startsAt: '2026-03-03T14:00:00Z',
      endsAt: '2026-03-03T15:00:00Z',
    });
    const plan = await planOf(interview.id);
    expect(plan.status).toBe('ACTIVE');
    const summary = plan.steps.map((step: any) => [step.kind, step.recipient.name, step.status, step.dueAt]);
    // T1: 2 h after 16:00 Berlin is 18:00, after hours, so Wednesday 09:00 Berlin (08:00Z).
    // T4: a week after the interview, at a business moment; final check-in 14 days after that.
    expect(summary).toEqual([
      ['THANK_YOU', 'Grace Hopper', 'SCHEDULED', '2026-03-04T08:00:00.000Z'],
      ['THANK_YOU', 'Alan Turing', 'SCHEDULED', '2026-03-04T08:00:00.000Z'],
      ['CHECK_IN', 'Grace Hopper', 'SCHEDULED', '2026-03-11T08:00:00.000Z'],
      ['FINAL_CHECK_IN', 'Grace Hopper', 'SCHEDULED', '2026-03-25T08:00:00.000Z'],
    ]);
    const thankYou = plan.steps[0];
    expect(thankYou.channel).toBe('EMAIL');
    expect(thankYou.recipient).toMatchObject({ email: 'grace.hopper@northwind.example', timezone: 'Europe/Berlin' });
    expect(thankYou.decisions.map((d: any) => d.rule)).toEqual(expect.arrayContaining(['T1', 'T2', 'C1', 'S6']));
    expect(thankYou.decisions.every((d: any) => ['PASS', 'ADJUST', 'BLOCK'].includes(d.outcome) && d.detail.length > 0)).toBe(true);
  });

  it('the preview equals what is stored (S4 aside, nothing has happened since)', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, {
      decisionExpectedBy: '2026-03-13T17:00:00Z',
      interviewers: [
        { name: 'Grace Hopper', email: 'grace@northwind.example', timezone: 'America/New_York' },
        { name: 'Alan Turing', email: 'alan@northwind.example', isPrimaryContact: true, timezone: 'Asia/Tokyo' },
        { name: 'Ada Byron', phone: '+447700900123', preferredChannel: 'SMS' },
      ],
    });
    const stored = (await planOf(interview.id)).steps.map(({ id: _id, late: _late, ...step }: any) => step);
    const previewed = await gql(app, tenant.token, PREVIEW, { id: interview.id });
    expect(previewed.errors).toBeUndefined();
    const preview = previewed.data.previewFollowUpPlan;
    expect(preview).toEqual(stored);
    expect(stored.find((step: any) => step.recipient.name === 'Ada Byron').channel).toBe('SMS');
    // T3: the check-in waits for the decision date (Friday 13 March) and goes a business day after.
    const checkIn = stored.find((step: any) => step.kind === 'CHECK_IN');
    expect(checkIn.recipient.name).toBe('Alan Turing');
    expect(checkIn.dueAt).toBe('2026-03-16T00:00:00.000Z'); // Monday 09:00 in Tokyo
    expect(checkIn.decisions.map((d: any) => d.rule)).toContain('T3');
  });

  it('S1 and S6 the plan and the preview account for replies and suppressed addresses, as the worker will', async () => {
    const other = await createTestTenant(database.db);
    const candidate = await createCandidateVia(app, other.token);
    await gql(app, other.token, `mutation { suppressAddress(address: "alan.turing@northwind.example") { address } }`);
    const interview = await scheduleInterviewVia(app, other.token, candidate);
    const stored = (await planOf(interview.id, other.token)).steps;
    expect(stored.find((step: any) => step.recipient.name === 'Alan Turing')).toMatchObject({ kind: 'THANK_YOU', status: 'SKIPPED', reason: 'suppressed' });

    await gql(app, other.token, `mutation ($id: ID!) { recordReply(input: { interviewId: $id, fromEmail: "grace.hopper@northwind.example" }) { id } }`, { id: interview.id });
    const preview = (await gql(app, other.token, PREVIEW, { id: interview.id })).data.previewFollowUpPlan;
    expect(preview.filter((step: any) => step.status === 'SCHEDULED').map((step: any) => [step.kind, step.recipient.name])).toEqual([['THANK_YOU', 'Grace Hopper']]);
    expect(preview.filter((step: any) => step.kind.includes('CHECK_IN')).map((step: any) => step.reason)).toEqual(['employer_replied', 'employer_replied']);
  });

  it('S4 rescheduling recomputes every unsent step and audits it', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    const before = await planOf(interview.id);
    const moved = await gql(
      app,
      tenant.token,
      `mutation ($id: ID!) { rescheduleInterview(id: $id, startsAt: "2026-03-10T09:00:00Z", endsAt: "2026-03-10T10:00:00Z") { id } }`,
      { id: interview.id },
    );
    expect(moved.errors).toBeUndefined();
    const after = await planOf(interview.id);
    expect(after.steps.map((step: any) => step.id)).toEqual(before.steps.map((step: any) => step.id));
    // Thank-yous at 13:00 Berlin; T5 keeps the check-in five business days after Grace's
    // thank-you; the final check-in 14 days later is 13:00 summer time (UTC+2).
    expect(after.steps.map((step: any) => step.dueAt)).toEqual([
      '2026-03-10T12:00:00.000Z',
      '2026-03-10T12:00:00.000Z',
      '2026-03-17T12:00:00.000Z',
      '2026-03-31T11:00:00.000Z',
    ]);
    const preview = (await gql(app, tenant.token, PREVIEW, { id: interview.id })).data.previewFollowUpPlan;
    expect(preview.map((step: any) => step.dueAt)).toEqual(after.steps.map((step: any) => step.dueAt));
    const audit = await gql(app, tenant.token, `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { action data } } } }`, { id: after.id });
    expect(audit.data.auditEvents.edges.map((edge: any) => edge.node.action)).toEqual(['plan.created', 'plan.recomputed']);
    const stepAudit = await gql(app, tenant.token, `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { action data } } } }`, { id: after.steps[0].id });
    expect(stepAudit.data.auditEvents.edges.map((edge: any) => edge.node.action)).toEqual(['step.planned', 'step.replanned']);
  });

  it('S4 cancelling the interview cancels the plan and keeps every step with its reason', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    await gql(app, tenant.token, `mutation ($id: ID!) { cancelInterview(id: $id) { id } }`, { id: interview.id });
    const plan = await planOf(interview.id);
    expect(plan).toMatchObject({ status: 'CANCELLED', statusReason: 'interview_cancelled' });
    expect(plan.steps).toHaveLength(4);
    expect(plan.steps.every((step: any) => step.status === 'CANCELLED' && step.reason === 'interview_cancelled')).toBe(true);
    expect((await gql(app, tenant.token, PREVIEW, { id: interview.id })).data.previewFollowUpPlan).toEqual([]);
  });

  it('S5 a company that wants no follow-ups gets every step skipped, one that wants thanks only gets no check-ins', async () => {
    const none = await scheduleInterviewVia(app, tenant.token, candidateId, { companyName: 'Quiet Corp', companyFollowUpStyle: 'NONE' });
    const nonePlan = await planOf(none.id);
    expect(nonePlan.status).toBe('COMPLETED');
    expect(nonePlan.steps.every((step: any) => step.status === 'SKIPPED' && step.reason === 'company_opt_out')).toBe(true);

    const thanksOnly = await scheduleInterviewVia(app, tenant.token, candidateId, { companyName: 'Polite Ltd', companyFollowUpStyle: 'THANK_YOU_ONLY' });
    const statuses = (await planOf(thanksOnly.id)).steps.map((step: any) => [step.kind, step.status, step.reason]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        ['THANK_YOU', 'SCHEDULED', null],
        ['CHECK_IN', 'SKIPPED', 'company_opt_out'],
        ['FINAL_CHECK_IN', 'SKIPPED', 'company_opt_out'],
      ]),
    );
  });

  it('T1 an interview recorded too late for a thank-you plans it as skipped, window_missed', async () => {
    now = new Date('2026-03-09T12:00:00Z');
    try {
      const interview = await scheduleInterviewVia(app, tenant.token, candidateId, { startsAt: '2026-03-02T09:00:00Z', endsAt: '2026-03-02T10:00:00Z' });
      const steps = (await planOf(interview.id)).steps;
      expect(steps.filter((step: any) => step.kind === 'THANK_YOU').map((step: any) => [step.status, step.reason])).toEqual([
        ['SKIPPED', 'window_missed'],
        ['SKIPPED', 'window_missed'],
      ]);
    } finally {
      now = NOW;
    }
  });

  it('lists steps by status, kind and due time, page by page', async () => {
    const other = await createTestTenant(database.db);
    const ada = await createCandidateVia(app, other.token);
    await scheduleInterviewVia(app, other.token, ada);
    await scheduleInterviewVia(app, other.token, ada, { startsAt: '2026-03-05T09:00:00Z', endsAt: '2026-03-05T10:00:00Z' });
    const query = `query ($after: String, $filter: FollowUpStepFilter) { followUpSteps(first: 3, after: $after, filter: $filter) { edges { node { kind dueAt } } pageInfo { hasNextPage endCursor } } }`;
    const dueTimes: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await gql(app, other.token, query, { after });
      dueTimes.push(...page.data.followUpSteps.edges.map((edge: any) => edge.node.dueAt));
      if (!page.data.followUpSteps.pageInfo.hasNextPage) break;
      after = page.data.followUpSteps.pageInfo.endCursor;
    }
    expect(dueTimes).toHaveLength(8);
    expect([...dueTimes].sort()).toEqual(dueTimes);

    const thankYous = await gql(app, other.token, query, { filter: { kind: 'THANK_YOU', status: ['SCHEDULED'], dueBefore: '2026-03-05T00:00:00Z' } });
    expect(thankYous.data.followUpSteps.edges.map((edge: any) => edge.node)).toEqual([
      { kind: 'THANK_YOU', dueAt: '2026-03-04T08:00:00.000Z' },
      { kind: 'THANK_YOU', dueAt: '2026-03-04T08:00:00.000Z' },
    ]);
  });

  it('a step and its plan lead back to each other', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    const plan = await planOf(interview.id);
    const read = await gql(app, tenant.token, `query ($id: ID!) { followUpPlan(id: $id) { id interview { id } steps { plan { id } } } }`, { id: plan.id });
    expect(read.data.followUpPlan.interview.id).toBe(interview.id);
    expect(read.data.followUpPlan.steps.every((step: any) => step.plan.id === plan.id)).toBe(true);
  });

  describe('the policy document', () => {
    let policyTenant: TestTenant;
    beforeAll(async () => {
      policyTenant = await createTestTenant(database.db);
    });
    const update = (document: unknown, token = policyTenant.token) =>
      gql(app, token, `mutation ($d: JSON!) { updatePolicy(document: $d) { version document createdBy } }`, { d: document });

    it('starts at version 1 with the documented defaults', async () => {
      const policy = (await gql(app, policyTenant.token, `{ policy { version document } }`)).data.policy;
      expect(policy.version).toBe(1);
      expect(policy.document).toMatchObject({
        businessHours: { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '09:00', end: '17:00' },
        holidays: [],
        thankYou: { enabled: true, delayMinutes: 120, deadlineHours: 24, graceHours: 48, approval: 'auto' },
        checkIn: { enabled: true, afterDays: 7, afterDecisionBusinessDays: 1, approval: 'auto' },
        finalCheckIn: { enabled: true, afterDays: 14, approval: 'auto' },
        keepInTouch: { enabled: false, approval: 'review' },
        maxMessagesPerRecipient: 3,
        minSpacingBusinessDays: 5,
        panelConsistency: 'personalized',
        autoPlan: true,
      });
    });

    it('merges a patch into a new version, and null brings a default back', async () => {
      const first = await update({ thankYou: { delayMinutes: 30 }, businessHours: 'always' });
      expect(first.data.updatePolicy.version).toBe(2);
      expect(first.data.updatePolicy.document.thankYou).toEqual({ enabled: true, delayMinutes: 30, deadlineHours: 24, graceHours: 48, approval: 'auto' });
      expect(first.data.updatePolicy.document.businessHours).toBe('always');
      const second = await update({ businessHours: null });
      expect(second.data.updatePolicy.version).toBe(3);
      expect(second.data.updatePolicy.document.businessHours).toEqual({ days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '09:00', end: '17:00' });
      expect(second.data.updatePolicy.document.thankYou.delayMinutes).toBe(30);
      expect(second.data.updatePolicy.createdBy).toBe(`user@${policyTenant.slug}`);
    });

    it.each([
      [{ thankYou: { delayMinutes: -5 } }, 'thankYou.delayMinutes'],
      [{ maxMessagesPerRecipient: 'three' }, 'maxMessagesPerRecipient'],
      [{ businessHours: { start: '18:00', end: '09:00' } }, 'businessHours'],
      [{ holidays: ['2026-13-01'] }, 'holidays.0'],
      [{ checkIn: { approval: 'sometimes' } }, 'checkIn.approval'],
      [{ colour: 'blue' }, 'colour'],
      [{ templates: { thankYou: { body: 'Hello {{#recipient.name}}' } } }, 'templates.thankYou.body'],
      [['not', 'an', 'object'], 'document'],
    ])('refuses %j naming %s, and stores nothing', async (document, key) => {
      const before = (await gql(app, policyTenant.token, `{ policy { version } }`)).data.policy.version;
      const result = await update(document);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: expect.stringContaining(key) });
      expect(result.errors?.[0]?.message).toContain(key.split('.')[0]);
      expect((await gql(app, policyTenant.token, `{ policy { version } }`)).data.policy.version).toBe(before);
    });

    it('needs policy:admin to change', async () => {
      const result = await update({ autoPlan: false }, tokenFor(policyTenant.id, { scopes: ['followups:read', 'followups:write'] }));
      expect(result.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    });

    it('with autoPlan off an interview has no plan until one is created by hand, once', async () => {
      await update({ autoPlan: false });
      const candidate = await createCandidateVia(app, policyTenant.token);
      const interview = await scheduleInterviewVia(app, policyTenant.token, candidate);
      expect(await planOf(interview.id, policyTenant.token)).toBeNull();
      const preview = (await gql(app, policyTenant.token, PREVIEW, { id: interview.id })).data.previewFollowUpPlan;
      expect(preview.length).toBeGreaterThan(0);
      const created = await gql(app, policyTenant.token, `mutation ($id: ID!) { createFollowUpPlan(interviewId: $id) { status steps { dueAt } } }`, { id: interview.id });
      expect(created.data.createFollowUpPlan.steps.map((step: any) => step.dueAt)).toEqual(preview.map((step: any) => step.dueAt));
      const again = await gql(app, policyTenant.token, `mutation ($id: ID!) { createFollowUpPlan(interviewId: $id) { status } }`, { id: interview.id });
      expect(again.errors?.[0]?.extensions.code).toBe('CONFLICT');
    });
  });
});
