import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCandidateVia, createTestApp, createTestTenant, gql, interviewInput, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// Every operation that takes an id, called by tenant B with tenant A's ids, must answer exactly
// as for an id that does not exist: NOT_FOUND and no data.

describe.each(testDatabaseKinds())('tenant isolation on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let owner: TestTenant;
  let intruder: TestTenant;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db);
    owner = await createTestTenant(database.db);
    intruder = await createTestTenant(database.db);
    ids.candidate = await createCandidateVia(app, owner.token);
    ids.interview = (await scheduleInterviewVia(app, owner.token, ids.candidate)).id;
    const plan = await gql(app, owner.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { id steps { id } } } }`, { id: ids.interview });
    ids.plan = plan.data.interview.followUpPlan.id;
    ids.step = plan.data.interview.followUpPlan.steps[0].id;
    ids.missing = '01a20000-0000-7000-8000-00000000dead';
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const operations: Array<[string, string, (ids: Record<string, string>) => Record<string, unknown>]> = [
    ['candidate', `query ($id: ID!) { candidate(id: $id) { id name } }`, (i) => ({ id: i.candidate })],
    ['interview', `query ($id: ID!) { interview(id: $id) { id positionTitle } }`, (i) => ({ id: i.interview })],
    ['auditEvents of a candidate', `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { id } } } }`, (i) => ({ id: i.candidate })],
    ['auditEvents of an interview', `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { id } } } }`, (i) => ({ id: i.interview })],
    ['updateCandidate', `mutation ($id: ID!) { updateCandidate(id: $id, input: { name: "Mallory" }) { id } }`, (i) => ({ id: i.candidate })],
    ['scheduleInterview', `mutation ($input: ScheduleInterviewInput!) { scheduleInterview(input: $input) { id } }`, (i) => ({ input: interviewInput(i.candidate!) })],
    ['rescheduleInterview', `mutation ($id: ID!) { rescheduleInterview(id: $id, startsAt: "2026-05-01T10:00:00Z", endsAt: "2026-05-01T11:00:00Z") { id } }`, (i) => ({ id: i.interview })],
    ['cancelInterview', `mutation ($id: ID!) { cancelInterview(id: $id) { id } }`, (i) => ({ id: i.interview })],
    ['followUpPlan', `query ($id: ID!) { followUpPlan(id: $id) { id steps { id } } }`, (i) => ({ id: i.plan })],
    ['auditEvents of a plan', `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { id } } } }`, (i) => ({ id: i.plan })],
    ['auditEvents of a step', `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { id } } } }`, (i) => ({ id: i.step })],
    ['previewFollowUpPlan', `query ($id: ID!) { previewFollowUpPlan(interviewId: $id) { dueAt } }`, (i) => ({ id: i.interview })],
    ['createFollowUpPlan', `mutation ($id: ID!) { createFollowUpPlan(interviewId: $id) { id } }`, (i) => ({ id: i.interview })],
  ];

  it.each(operations)('%s with another tenant’s id answers like a missing id', async (_name, query, variables) => {
    const foreign = await gql(app, intruder.token, query, variables(ids));
    const missing = await gql(app, intruder.token, query, variables({ candidate: ids.missing!, interview: ids.missing!, plan: ids.missing!, step: ids.missing! }));
    expect(foreign.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    expect(JSON.stringify(foreign.data)).not.toContain(ids.candidate);
    expect(Object.values(foreign.data ?? {}).every((value) => value === null)).toBe(true);
    // Same shape and the same words, but for the id itself.
    expect(foreign.errors?.[0]?.message.replace(/[0-9a-f-]{36}/g, 'ID')).toBe(missing.errors?.[0]?.message.replace(/[0-9a-f-]{36}/g, 'ID'));
    expect(foreign.status).toBe(missing.status);
  });

  it('lists show only the caller’s rows', async () => {
    const candidates = await gql(app, intruder.token, `{ candidates { edges { node { id } } } interviews { edges { node { id } } } followUpSteps { edges { node { id } } } }`);
    expect(candidates.data).toEqual({ candidates: { edges: [] }, interviews: { edges: [] }, followUpSteps: { edges: [] } });
    const byForeignPlan = await gql(app, intruder.token, `query ($p: ID!) { followUpSteps(filter: { planId: $p }) { edges { node { id } } } }`, { p: ids.plan });
    expect(byForeignPlan.data.followUpSteps.edges).toEqual([]);
    const byForeignCandidate = await gql(app, intruder.token, `query ($c: ID!) { interviews(filter: { candidateId: $c }) { edges { node { id } } } }`, { c: ids.candidate });
    expect(byForeignCandidate.data.interviews.edges).toEqual([]);
  });

  it('the owner’s data is untouched by the attempts', async () => {
    const read = await gql(app, owner.token, `query ($id: ID!) { interview(id: $id) { status startsAt candidate { name } } }`, { id: ids.interview });
    expect(read.data.interview).toEqual({ status: 'SCHEDULED', startsAt: '2026-03-03T14:00:00.000Z', candidate: { name: 'Ada Lovelace' } });
  });

  it('REST refuses another tenant’s candidate the same way as a missing one', async () => {
    const post = (candidateId: string) =>
      app.inject({ method: 'POST', url: '/v1/interviews', headers: { authorization: `Bearer ${intruder.token}` }, payload: interviewInput(candidateId) });
    const foreign = await post(ids.candidate!);
    const missing = await post(ids.missing!);
    expect(foreign.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(foreign.json().error).toBe('NOT_FOUND');
  });
});
