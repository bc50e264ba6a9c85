import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCandidateVia, createTestApp, createTestTenant, gql, interviewInput, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';

// Every operation that takes an id, called by tenant B with tenant A's ids, must answer exactly
// as for an id that does not exist: NOT_FOUND and no data.

describe.each(testDatabaseKinds())('tenant isolation on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let owner: TestTenant;
  let intruder: TestTenant;
  const ids: Record<string, string> = {};
  let planStatusBefore: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db);
    owner = await createTestTenant(database.db);
    intruder = await createTestTenant(database.db);
    ids.candidate = await createCandidateVia(app, owner.token);
    ids.interview = (await scheduleInterviewVia(app, owner.token, ids.candidate)).id;
    const plan = await gql(app, owner.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { id status steps { id } } } }`, { id: ids.interview });
    planStatusBefore = plan.data.interview.followUpPlan.status;
    ids.plan = plan.data.interview.followUpPlan.id;
    ids.step = plan.data.interview.followUpPlan.steps[0].id;
    // A held message (review policy), a webhook endpoint and a delivery, all the owner's.
    await gql(app, owner.token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0, approval: "review" } }) { version } }`);
    const ended = new Date(Date.now() - 60_000);
    const reviewed = (
      await scheduleInterviewVia(app, owner.token, ids.candidate, { startsAt: new Date(ended.getTime() - 3_600_000).toISOString(), endsAt: ended.toISOString() })
    ).id;
    await evaluateDueSteps(database.db, { now: new Date(), batchSize: 100, spell: createEnglishSpellChecker() });
    const held = await gql(app, owner.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { steps { message { id } } } } }`, { id: reviewed });
    ids.message = held.data.interview.followUpPlan.steps[0].message.id;
    await gql(app, owner.token, `mutation { suppressAddress(address: "opted.out@owner.example") { address } }`);
    const endpoint = await gql(app, owner.token, `mutation { registerWebhookEndpoint(url: "https://hooks.owner.example/in") { endpoint { id } } }`);
    ids.endpoint = endpoint.data.registerWebhookEndpoint.endpoint.id;
    await gql(app, owner.token, `mutation ($id: ID!) { discardMessage(id: $id) { id } }`, { id: ids.message });
    const delivery = await gql(app, owner.token, `{ webhookDeliveries { edges { node { id } } } }`);
    ids.delivery = delivery.data.webhookDeliveries.edges[0]?.node.id ?? ids.endpoint;
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
    ['message', `query ($id: ID!) { message(id: $id) { id body } }`, (i) => ({ id: i.message })],
    ['approveMessage', `mutation ($id: ID!) { approveMessage(id: $id) { id } }`, (i) => ({ id: i.message })],
    ['discardMessage', `mutation ($id: ID!) { discardMessage(id: $id) { id } }`, (i) => ({ id: i.message })],
    ['recordReply', `mutation ($id: ID!) { recordReply(input: { interviewId: $id, fromEmail: "x@example.com" }) { id } }`, (i) => ({ id: i.interview })],
    ['recordOutcome', `mutation ($id: ID!) { recordOutcome(interviewId: $id, outcome: HIRED) { id } }`, (i) => ({ id: i.interview })],
    ['pauseFollowUpPlan', `mutation ($id: ID!) { pauseFollowUpPlan(id: $id) { id } }`, (i) => ({ id: i.plan })],
    ['resumeFollowUpPlan', `mutation ($id: ID!) { resumeFollowUpPlan(id: $id) { id } }`, (i) => ({ id: i.plan })],
    ['cancelFollowUpPlan', `mutation ($id: ID!) { cancelFollowUpPlan(id: $id) { id } }`, (i) => ({ id: i.plan })],
    ['markStepDelivered', `mutation ($id: ID!) { markStepDelivered(id: $id) { id } }`, (i) => ({ id: i.step })],
    ['rotateWebhookSecret', `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, (i) => ({ id: i.endpoint })],
    ['deleteWebhookEndpoint', `mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, (i) => ({ id: i.endpoint })],
    ['redeliverWebhook', `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }`, (i) => ({ id: i.delivery })],
  ];

  it.each(operations)('%s with another tenant’s id answers like a missing id', async (_name, query, variables) => {
    const foreign = await gql(app, intruder.token, query, variables(ids));
    const missing = await gql(
      app,
      intruder.token,
      query,
      variables(Object.fromEntries(Object.keys(ids).map((key) => [key, ids.missing!]))),
    );
    expect(foreign.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    expect(JSON.stringify(foreign.data)).not.toContain(ids.candidate);
    expect(Object.values(foreign.data ?? {}).every((value) => value === null)).toBe(true);
    // Same shape and the same words, but for the id itself.
    expect(foreign.errors?.[0]?.message.replace(/[0-9a-f-]{36}/g, 'ID')).toBe(missing.errors?.[0]?.message.replace(/[0-9a-f-]{36}/g, 'ID'));
    expect(foreign.status).toBe(missing.status);
  });

  it('lists show only the caller’s rows', async () => {
    const lists = await gql(
      app,
      intruder.token,
      `{ candidates { edges { node { id } } } interviews { edges { node { id } } } followUpSteps { edges { node { id } } } messages { edges { node { id } } } webhookEndpoints { id } webhookDeliveries { edges { node { id } } } suppressions { edges { node { address } } } }`,
    );
    expect(lists.data).toEqual({
      candidates: { edges: [] },
      interviews: { edges: [] },
      followUpSteps: { edges: [] },
      messages: { edges: [] },
      webhookEndpoints: [],
      webhookDeliveries: { edges: [] },
      suppressions: { edges: [] },
    });
    const lift = await gql(app, intruder.token, `mutation { unsuppressAddress(address: "opted.out@owner.example") { address } }`);
    expect(lift.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    const byForeignPlan = await gql(app, intruder.token, `query ($p: ID!) { followUpSteps(filter: { planId: $p }) { edges { node { id } } } }`, { p: ids.plan });
    expect(byForeignPlan.data.followUpSteps.edges).toEqual([]);
    const byForeignCandidate = await gql(app, intruder.token, `query ($c: ID!) { interviews(filter: { candidateId: $c }) { edges { node { id } } } }`, { c: ids.candidate });
    expect(byForeignCandidate.data.interviews.edges).toEqual([]);
  });

  it('the owner’s data is untouched by the attempts', async () => {
    const read = await gql(app, owner.token, `query ($id: ID!) { interview(id: $id) { status startsAt outcome candidate { name } followUpPlan { status } } }`, { id: ids.interview });
    expect(read.data.interview).toEqual({ status: 'SCHEDULED', startsAt: '2026-03-03T14:00:00.000Z', outcome: null, candidate: { name: 'Ada Lovelace' }, followUpPlan: { status: planStatusBefore } });
    const endpoints = await gql(app, owner.token, `{ webhookEndpoints { id status } }`);
    expect(endpoints.data.webhookEndpoints).toEqual([{ id: ids.endpoint, status: 'ACTIVE' }]);
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
