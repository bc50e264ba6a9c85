import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCandidateVia,
  createTestApp,
  createTestTenant,
  gql,
  interviewInput,
  SCHEDULE_INTERVIEW,
  scheduleInterviewVia,
  type TestTenant,
} from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

describe.each(testDatabaseKinds())('interviews on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  let candidateId: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
    candidateId = await createCandidateVia(app, tenant.token);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const schedule = (overrides: Record<string, unknown>) => gql(app, tenant.token, SCHEDULE_INTERVIEW, { input: interviewInput(candidateId, overrides) });

  it('schedules an interview with its company, interviewers and candidate', async () => {
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, {
      companyPreferredChannel: 'EMAIL',
      companyFollowUpStyle: 'THANK_YOU_ONLY',
      timezone: 'america/new_york',
    });
    expect(interview).toMatchObject({
      positionTitle: 'Senior Data Engineer',
      status: 'SCHEDULED',
      startsAt: '2026-03-03T14:00:00.000Z',
      timezone: 'America/New_York',
      topics: ['streaming pipelines', 'data contracts'],
      candidate: { id: candidateId, name: 'Ada Lovelace' },
      company: { name: 'Northwind Analytics', followUpStyle: 'THANK_YOU_ONLY', preferredChannel: 'EMAIL' },
    });
    expect(interview.interviewers.map((i: any) => [i.name, i.isPrimaryContact])).toEqual([
      ['Grace Hopper', true],
      ['Alan Turing', false],
    ]);
  });

  it('reuses a company by name and keeps settings a later interview does not give', async () => {
    const first = await scheduleInterviewVia(app, tenant.token, candidateId, { companyName: 'Contoso', companyFollowUpStyle: 'NONE' });
    const second = await scheduleInterviewVia(app, tenant.token, candidateId, { companyName: 'CONTOSO' });
    expect(second.company.id).toBe(first.company.id);
    expect(second.company.followUpStyle).toBe('NONE');
  });

  it.each([
    [{ endsAt: '2026-03-03T13:00:00Z' }, 'input.endsAt', 'later than startsAt'],
    [{ startsAt: '2026-03-03 14:00' }, 'startsAt', 'ISO-8601'],
    [{ timezone: 'Europe/Nowhere' }, 'timezone', 'IANA'],
    [{ interviewers: [] }, 'input.interviewers', 'at least one interviewer'],
    [{ interviewers: [{ name: 'Nobody' }] }, 'input.interviewers.0', 'email or a phone'],
    [{ interviewers: [{ name: 'Bad', email: 'bad@' }] }, 'email', 'valid email'],
    [{ interviewers: [{ name: 'Bad', phone: '12345' }] }, 'phone', 'E.164'],
    [
      { interviewers: [{ name: 'A', email: 'a@x.example', isPrimaryContact: true }, { name: 'B', email: 'b@x.example', isPrimaryContact: true }] },
      'input.interviewers',
      'at most one',
    ],
    [{ interviewers: [{ name: 'A', email: 'a@x.example' }, { name: 'B', email: 'A@x.example' }] }, 'input.interviewers.1.email', 'repeats'],
    [{ positionTitle: 'x'.repeat(201) }, 'input.positionTitle', 'at most 200'],
    [{ topics: Array.from({ length: 21 }, (_, i) => `topic ${i}`) }, 'input.topics', 'at most 20'],
    [{ decisionExpectedBy: '2026-03-01T00:00:00Z' }, 'input.decisionExpectedBy', 'before the interview ends'],
  ])('refuses %j with BAD_USER_INPUT at %s', async (overrides, field, words) => {
    const result = await schedule(overrides);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toContain(words);
    expect(`${result.errors?.[0]?.extensions.field ?? ''} ${result.errors?.[0]?.message}`).toContain(field);
  });

  it('stores nothing when an interview is refused', async () => {
    const before = await database.db.selectFrom('interviews').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await schedule({ interviewers: [{ name: 'Nobody' }] });
    await schedule({ candidateId: '01a20000-0000-7000-8000-000000000000' });
    const after = await database.db.selectFrom('interviews').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('answers NOT_FOUND for an unknown candidate', async () => {
    const result = await schedule({ candidateId: '01a20000-0000-7000-8000-000000000000' });
    expect(result.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('reschedules and cancels, refusing changes to a cancelled interview', async () => {
    const { id } = await scheduleInterviewVia(app, tenant.token, candidateId);
    const moved = await gql(app, tenant.token, `mutation ($id: ID!) { rescheduleInterview(id: $id, startsAt: "2026-03-05T09:00:00+01:00", endsAt: "2026-03-05T10:00:00+01:00") { startsAt endsAt } }`, { id });
    expect(moved.data.rescheduleInterview).toEqual({ startsAt: '2026-03-05T08:00:00.000Z', endsAt: '2026-03-05T09:00:00.000Z' });

    const backwards = await gql(app, tenant.token, `mutation ($id: ID!) { rescheduleInterview(id: $id, startsAt: "2026-03-05T10:00:00Z", endsAt: "2026-03-05T09:00:00Z") { id } }`, { id });
    expect(backwards.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endsAt' });

    const cancelled = await gql(app, tenant.token, `mutation ($id: ID!) { cancelInterview(id: $id) { status } }`, { id });
    expect(cancelled.data.cancelInterview.status).toBe('CANCELLED');
    const again = await gql(app, tenant.token, `mutation ($id: ID!) { cancelInterview(id: $id) { status } }`, { id });
    expect(again.errors?.[0]?.extensions.code).toBe('CONFLICT');
    const late = await gql(app, tenant.token, `mutation ($id: ID!) { rescheduleInterview(id: $id, startsAt: "2026-03-06T09:00:00Z", endsAt: "2026-03-06T10:00:00Z") { id } }`, { id });
    expect(late.errors?.[0]?.extensions.code).toBe('CONFLICT');

    const audit = await gql(app, tenant.token, `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { action actor data } } } }`, { id });
    const events = audit.data.auditEvents.edges.map((edge: any) => edge.node);
    expect(events.map((event: any) => event.action)).toEqual(['interview.scheduled', 'interview.rescheduled', 'interview.cancelled']);
    expect(events[1].data).toEqual({
      from: { startsAt: '2026-03-03T14:00:00.000Z', endsAt: '2026-03-03T15:00:00.000Z' },
      to: { startsAt: '2026-03-05T08:00:00.000Z', endsAt: '2026-03-05T09:00:00.000Z' },
    });
  });

  it('lists interviews by candidate and status, and a candidate lists its interviews', async () => {
    const other = await createTestTenant(database.db);
    const ada = await createCandidateVia(app, other.token);
    const bob = await createCandidateVia(app, other.token, { name: 'Bob Moses', email: 'bob@example.com' });
    const a1 = await scheduleInterviewVia(app, other.token, ada);
    const a2 = await scheduleInterviewVia(app, other.token, ada, { startsAt: '2026-04-01T10:00:00Z', endsAt: '2026-04-01T11:00:00Z' });
    await scheduleInterviewVia(app, other.token, bob);
    await gql(app, other.token, `mutation ($id: ID!) { cancelInterview(id: $id) { id } }`, { id: a2.id });

    const byCandidate = await gql(app, other.token, `query ($c: ID!) { interviews(filter: { candidateId: $c }) { edges { node { id } } } }`, { c: ada });
    expect(byCandidate.data.interviews.edges.map((e: any) => e.node.id)).toEqual([a1.id, a2.id]);
    const cancelled = await gql(app, other.token, `{ interviews(filter: { status: CANCELLED }) { edges { node { id } } } }`);
    expect(cancelled.data.interviews.edges.map((e: any) => e.node.id)).toEqual([a2.id]);
    const inMarch = await gql(app, other.token, `{ interviews(filter: { startsBefore: "2026-03-31T00:00:00Z" }) { edges { node { id } } } }`);
    expect(inMarch.data.interviews.edges).toHaveLength(2);
    const nested = await gql(app, other.token, `query ($c: ID!) { candidate(id: $c) { interviews(first: 1) { edges { node { id } } pageInfo { hasNextPage } } } }`, { c: ada });
    expect(nested.data.candidate.interviews).toEqual({ edges: [{ node: { id: a1.id } }], pageInfo: { hasNextPage: true } });
  });
});
