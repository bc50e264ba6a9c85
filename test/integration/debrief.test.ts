import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceEndedInterviews } from '../../src/services/interview-endings.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// The debrief (API.md "After the interview"): the interview is Tuesday 3 March 2026,
// 15:00-16:00 in Berlin; "now" is the evening after it.
const NOW = new Date('2026-03-03T17:00:00Z');

const STEPS = /* GraphQL */ `
  query ($id: ID!) { interview(id: $id) { followUpPlan { steps { id kind status reason dueAt recipient { name interviewerId } decisions { rule outcome detail } } } } }
`;
const UPDATE = /* GraphQL */ `
  mutation ($id: ID!, $input: UpdateInterviewInput!) {
    updateInterview(id: $id, input: $input) { id positionTitle decisionExpectedBy topics highlights leftOut resourceUrl channel }
  }
`;
const ADD = /* GraphQL */ `
  mutation ($id: ID!, $input: InterviewerInput!) { addInterviewer(interviewId: $id, input: $input) { id name email topics honorific isPrimaryContact } }
`;
const UPDATE_INTERVIEWER = /* GraphQL */ `
  mutation ($id: ID!, $input: UpdateInterviewerInput!) { updateInterviewer(id: $id, input: $input) { id name email topics honorific title } }
`;
const REMOVE = /* GraphQL */ `mutation ($id: ID!) { removeInterviewer(id: $id) { id name } }`;
const AUDIT = /* GraphQL */ `query ($id: ID!) { auditEvents(entityId: $id, first: 100) { edges { node { action data } } } }`;

describe.each(testDatabaseKinds())('the debrief on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  let candidateId: string;
  const now = NOW;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db, { clock: () => now, webhooks: { allowPrivate: true, requireHttps: false } });
    tenant = await createTestTenant(database.db);
    candidateId = await createCandidateVia(app, tenant.token, { email: 'ada@lovelace.example', phone: '+447700900123' });
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const stepsOf = async (interviewId: string) => (await gql(app, tenant.token, STEPS, { id: interviewId })).data.interview.followUpPlan.steps as any[];
  const auditOf = async (id: string) => (await gql(app, tenant.token, AUDIT, { id })).data.auditEvents.edges.map((edge: any) => edge.node);

  it('a decision date re-times the check-in (T3), null clears a field, and the audit names fields, not values', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    const before = (await stepsOf(interview.id)).find((step) => step.kind === 'CHECK_IN');
    expect(before.dueAt).toBe('2026-03-11T08:00:00.000Z');

    const updated = await gql(app, tenant.token, UPDATE, {
      id: interview.id,
      input: {
        decisionExpectedBy: '2026-03-16T12:00:00Z',
        highlights: 'six years of building streaming systems',
        leftOut: 'I also led the migration of our billing data to Kafka',
        resourceUrl: 'https://example.org/data-contracts',
        topics: ['schema evolution'],
      },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data.updateInterview).toMatchObject({
      decisionExpectedBy: '2026-03-16T12:00:00.000Z',
      topics: ['schema evolution'],
      highlights: 'six years of building streaming systems',
      resourceUrl: 'https://example.org/data-contracts',
    });
    // T3: one business day after Monday 16 March is Tuesday 17 March, 09:00 in Berlin.
    const after = (await stepsOf(interview.id)).find((step) => step.kind === 'CHECK_IN');
    expect(after.id).toBe(before.id);
    expect(after.dueAt).toBe('2026-03-17T08:00:00.000Z');
    expect(after.decisions.map((d: any) => d.rule)).toContain('T3');

    const cleared = await gql(app, tenant.token, UPDATE, { id: interview.id, input: { resourceUrl: null, leftOut: null } });
    expect(cleared.data.updateInterview).toMatchObject({ resourceUrl: null, leftOut: null, highlights: 'six years of building streaming systems' });

    const audit = await auditOf(interview.id);
    const updates = audit.filter((event: any) => event.action === 'interview.updated');
    expect(updates.map((event: any) => event.data.changed)).toEqual([
      ['decisionExpectedBy', 'topics', 'highlights', 'leftOut', 'resourceUrl'],
      ['leftOut', 'resourceUrl'],
    ]);
    expect(JSON.stringify(updates)).not.toContain('streaming systems');
  });

  it('refuses what cannot be stored, naming the field', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ positionTitle: null }, 'input.positionTitle'],
      [{ decisionExpectedBy: '2026-03-01T00:00:00Z' }, 'input.decisionExpectedBy'],
      [{ resourceUrl: 'ftp://example.org/x' }, 'input.resourceUrl'],
      [{ highlights: '   ' }, 'input.highlights'],
      [{ highlights: 'x'.repeat(301) }, 'input.highlights'],
    ];
    for (const [input, field] of cases) {
      const result = await gql(app, tenant.token, UPDATE, { id: interview.id, input });
      expect(result.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const missing = await gql(app, tenant.token, UPDATE, { id: '00000000-0000-7000-8000-000000000000', input: { topics: [] } });
    expect(missing.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('an added interviewer gets a thank-you planned; a removed one has their unsent steps cancelled (S4)', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    const added = await gql(app, tenant.token, ADD, {
      id: interview.id,
      input: { name: 'Dr. Kenji Watanabe', email: 'kenji@northwind.example', topics: ['query planning'], title: 'Principal Engineer' },
    });
    expect(added.errors).toBeUndefined();
    const kenji = added.data.addInterviewer;
    expect(kenji).toMatchObject({ topics: ['query planning'], isPrimaryContact: false });
    const withKenji = await stepsOf(interview.id);
    const thankYou = withKenji.find((step) => step.kind === 'THANK_YOU' && step.recipient.interviewerId === kenji.id);
    expect(thankYou).toMatchObject({ status: 'SCHEDULED', dueAt: '2026-03-04T08:00:00.000Z' });

    const renamed = await gql(app, tenant.token, UPDATE_INTERVIEWER, { id: kenji.id, input: { honorific: 'Prof.', title: null } });
    expect(renamed.data.updateInterviewer).toMatchObject({ honorific: 'Prof.', title: null, name: 'Dr. Kenji Watanabe' });

    const removed = await gql(app, tenant.token, REMOVE, { id: kenji.id });
    expect(removed.data.removeInterviewer.id).toBe(kenji.id);
    const cancelled = (await stepsOf(interview.id)).find((step) => step.id === thankYou.id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', reason: 'interviewer_removed' });
    expect(cancelled.decisions.at(-1)).toMatchObject({ rule: 'S4', outcome: 'BLOCK' });

    const actions = (await auditOf(interview.id)).map((event: any) => event.action);
    expect(actions).toEqual(expect.arrayContaining(['interviewer.added', 'interviewer.updated', 'interviewer.removed']));
    const again = await gql(app, tenant.token, REMOVE, { id: kenji.id });
    expect(again.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('removing the primary contact moves the check-ins to the next person', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    const grace = interview.interviewers[0];
    await gql(app, tenant.token, REMOVE, { id: grace.id });
    const pending = (await stepsOf(interview.id)).filter((step) => step.status === 'SCHEDULED');
    expect(pending.map((step) => [step.kind, step.recipient.name])).toEqual([
      ['THANK_YOU', 'Alan Turing'],
      ['CHECK_IN', 'Alan Turing'],
      ['FINAL_CHECK_IN', 'Alan Turing'],
    ]);
    const last = await gql(app, tenant.token, REMOVE, { id: interview.interviewers[1].id });
    expect(last.errors?.[0]?.extensions.code).toBe('CONFLICT');
  });

  it('refuses an interviewer who is the candidate (email or phone), everywhere one is stored', async () => {
    const scheduled = await gql(app, tenant.token, `mutation ($input: ScheduleInterviewInput!) { scheduleInterview(input: $input) { id } }`, {
      input: {
        candidateId,
        positionTitle: 'Data Engineer',
        companyName: 'Northwind Analytics',
        startsAt: '2026-03-03T14:00:00Z',
        endsAt: '2026-03-03T15:00:00Z',
        timezone: 'Europe/Berlin',
        interviewers: [{ name: 'Grace Hopper', email: 'grace@northwind.example' }, { name: 'Ada', email: 'ADA@lovelace.example' }],
      },
    });
    expect(scheduled.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.interviewers.1.email' });

    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    const byPhone = await gql(app, tenant.token, ADD, { id: interview.id, input: { name: 'Someone', phone: '+447700900123' } });
    expect(byPhone.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.phone' });
    const changed = await gql(app, tenant.token, UPDATE_INTERVIEWER, { id: interview.interviewers[1].id, input: { email: 'ada@lovelace.example' } });
    expect(changed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.email' });
  });

  it('PATCH /v1/interviews/{id} has the same effects and errors', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId);
    const patch = (payload: unknown, id = interview.id) =>
      app.inject({ method: 'PATCH', url: `/v1/interviews/${id}`, headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    const ok = await patch({ decisionExpectedBy: '2026-03-16T12:00:00Z', highlights: 'a decade of SQL tuning', channel: 'email' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ id: interview.id, highlights: 'a decade of SQL tuning', channel: 'EMAIL', decisionExpectedBy: '2026-03-16T12:00:00.000Z' });
    expect(ok.json().interviewers).toHaveLength(2);
    const bad = await patch({ leftOut: 42 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'leftOut' }); // REST names the body's own fields (issue 15)
    const unknown = await patch({ nickname: 'x' });
    expect(unknown.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'nickname' });
    expect((await patch({}, '00000000-0000-7000-8000-000000000000')).statusCode).toBe(404);
  });

  it('interview.ended is queued once per interview, when its end has passed, to subscribed endpoints', async () => {
    const other = await createTestTenant(database.db);
    const otherCandidate = await createCandidateVia(app, other.token);
    const registered = await gql(app, other.token, `mutation { registerWebhookEndpoint(url: "http://127.0.0.1:9/hook", events: ["interview.ended"]) { endpoint { id } } }`);
    expect(registered.errors).toBeUndefined();
    const ended = await scheduleInterviewVia(app, other.token, otherCandidate, { startsAt: '2026-03-03T14:00:00Z', endsAt: '2026-03-03T15:00:00Z' });
    const later = await scheduleInterviewVia(app, other.token, otherCandidate, { startsAt: '2026-03-05T14:00:00Z', endsAt: '2026-03-05T15:00:00Z' });

    await announceEndedInterviews(database.db, NOW, 2);
    await announceEndedInterviews(database.db, NOW, 2);
    const deliveries = await database.db.selectFrom('webhook_deliveries').select(['event_type', 'payload']).where('tenant_id', '=', other.id).execute();
    expect(deliveries.map((row) => [row.event_type, row.payload.data.interviewId])).toEqual([['interview.ended', ended.id]]);
    expect(deliveries[0]!.payload.data).toEqual({ interviewId: ended.id, candidateId: otherCandidate, endedAt: '2026-03-03T15:00:00.000Z' });

    await announceEndedInterviews(database.db, new Date('2026-03-05T15:00:00Z'), 200);
    const all = await database.db.selectFrom('webhook_deliveries').select(['payload']).where('tenant_id', '=', other.id).execute();
    expect(all.map((row) => row.payload.data.interviewId).sort()).toEqual([ended.id, later.id].sort());
  });
});
