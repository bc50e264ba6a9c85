import type { FastifyInstance } from 'fastify';
import { buildSchema, isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaText } from '../../src/graphql/plugin.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, interviewInput, scheduleInterviewVia, type TestTenant, tokenFor } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// A candidate token (the `candidate` claim) sees one candidate. The walk below calls every
// query and mutation of the schema with a token for candidate A:
// - OWN operations with B's ids answer NOT_FOUND exactly like a missing id, and with A's own
//   ids are let through (they may still answer CONFLICT and the like, never NOT_FOUND/FORBIDDEN);
// - LIST operations return A's rows only;
// - TENANT-WIDE operations answer FORBIDDEN whatever the arguments.
// The operations are read from schema.graphql: a new query or mutation that is not listed in
// CANDIDATE_ACCESS below fails the first test, so whoever adds one decides, here, what a
// candidate token may do with it (and makes the service enforce it).

interface Ids {
  candidate: string;
  interview: string;
  plan: string;
  step: string;
  message: string;
  reply?: string;
  interviewer?: string;
}

type Variables = (ids: Ids) => Record<string, unknown>;

type Access =
  | { access: 'own'; document: string; variables: Variables }
  | { access: 'list'; document: string; variables?: Variables }
  | { access: 'tenant-wide'; document: string; variables?: Variables }
  /** API.md: auditEvents of anything but the candidate's own entities is FORBIDDEN (a missing id too). */
  | { access: 'own-or-forbidden'; document: string; variables: Variables };

const RESCHEDULE = { startsAt: '2026-05-01T10:00:00Z', endsAt: '2026-05-01T11:00:00Z' };

export const CANDIDATE_ACCESS: Record<string, Access> = {
  // Queries
  candidate: { access: 'own', document: `query ($id: ID!) { candidate(id: $id) { id name } }`, variables: (i) => ({ id: i.candidate }) },
  candidates: { access: 'list', document: `{ candidates { edges { node { id name } } } }` },
  interview: { access: 'own', document: `query ($id: ID!) { interview(id: $id) { id candidate { id } } }`, variables: (i) => ({ id: i.interview }) },
  interviews: { access: 'list', document: `query ($c: ID) { interviews(filter: { candidateId: $c }) { edges { node { id candidate { id } } } } }`, variables: (i) => ({ c: i.candidate }) },
  auditEvents: { access: 'own-or-forbidden', document: `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { id } } } }`, variables: (i) => ({ id: i.interview }) },
  followUpPlan: { access: 'own', document: `query ($id: ID!) { followUpPlan(id: $id) { id steps { id } } }`, variables: (i) => ({ id: i.plan }) },
  followUpSteps: { access: 'list', document: `query ($p: ID) { followUpSteps(filter: { planId: $p }) { edges { node { id plan { id } } } } }`, variables: (i) => ({ p: i.plan }) },
  previewFollowUpPlan: { access: 'own', document: `query ($id: ID!) { previewFollowUpPlan(interviewId: $id) { dueAt } }`, variables: (i) => ({ id: i.interview }) },
  policy: { access: 'tenant-wide', document: `{ policy { version } }` },
  message: { access: 'own', document: `query ($id: ID!) { message(id: $id) { id body } }`, variables: (i) => ({ id: i.message }) },
  messages: { access: 'list', document: `query ($p: ID) { messages(filter: { planId: $p }) { edges { node { id planId: step { plan { id } } } } } }`, variables: (i) => ({ p: i.plan }) },
  webhookEndpoints: { access: 'tenant-wide', document: `{ webhookEndpoints { id } }` },
  suppressions: { access: 'tenant-wide', document: `{ suppressions { edges { node { address } } } }` },
  webhookDeliveries: { access: 'tenant-wide', document: `{ webhookDeliveries { edges { node { id } } } }` },
  signingKeys: { access: 'tenant-wide', document: `{ signingKeys { kid } }` },

  // Mutations
  createCandidate: { access: 'tenant-wide', document: `mutation { createCandidate(input: { name: "Mallory", email: "mallory@example.com", consent: true }) { id } }` },
  updateCandidate: { access: 'tenant-wide', document: `mutation ($id: ID!) { updateCandidate(id: $id, input: { name: "Mallory" }) { id } }`, variables: (i) => ({ id: i.candidate }) },
  scheduleInterview: { access: 'tenant-wide', document: `mutation ($input: ScheduleInterviewInput!) { scheduleInterview(input: $input) { id } }`, variables: (i) => ({ input: interviewInput(i.candidate) }) },
  rescheduleInterview: { access: 'tenant-wide', document: `mutation ($id: ID!, $s: DateTime!, $e: DateTime!) { rescheduleInterview(id: $id, startsAt: $s, endsAt: $e) { id } }`, variables: (i) => ({ id: i.interview, s: RESCHEDULE.startsAt, e: RESCHEDULE.endsAt }) },
  cancelInterview: { access: 'tenant-wide', document: `mutation ($id: ID!) { cancelInterview(id: $id) { id } }`, variables: (i) => ({ id: i.interview }) },
  createFollowUpPlan: { access: 'tenant-wide', document: `mutation ($id: ID!) { createFollowUpPlan(interviewId: $id) { id } }`, variables: (i) => ({ id: i.interview }) },
  updatePolicy: { access: 'tenant-wide', document: `mutation { updatePolicy(document: { maxMessagesPerRecipient: 1 }) { version } }` },
  recordReply: { access: 'tenant-wide', document: `mutation ($id: ID!) { recordReply(input: { interviewId: $id, fromEmail: "x@example.com" }) { id } }`, variables: (i) => ({ id: i.interview }) },
  recordOutcome: { access: 'tenant-wide', document: `mutation ($id: ID!) { recordOutcome(interviewId: $id, outcome: HIRED) { id } }`, variables: (i) => ({ id: i.interview }) },
  approveMessage: { access: 'own', document: `mutation ($id: ID!) { approveMessage(id: $id) { id } }`, variables: (i) => ({ id: i.message }) },
  discardMessage: { access: 'own', document: `mutation ($id: ID!) { discardMessage(id: $id) { id } }`, variables: (i) => ({ id: i.message }) },
  pauseFollowUpPlan: { access: 'own', document: `mutation ($id: ID!) { pauseFollowUpPlan(id: $id) { id } }`, variables: (i) => ({ id: i.plan }) },
  resumeFollowUpPlan: { access: 'own', document: `mutation ($id: ID!) { resumeFollowUpPlan(id: $id) { id } }`, variables: (i) => ({ id: i.plan }) },
  cancelFollowUpPlan: { access: 'tenant-wide', document: `mutation ($id: ID!) { cancelFollowUpPlan(id: $id) { id } }`, variables: (i) => ({ id: i.plan }) },
  markStepDelivered: { access: 'tenant-wide', document: `mutation ($id: ID!) { markStepDelivered(id: $id) { id } }`, variables: (i) => ({ id: i.step }) },
  suppressAddress: { access: 'tenant-wide', document: `mutation { suppressAddress(address: "someone@example.com") { address } }` },
  unsuppressAddress: { access: 'tenant-wide', document: `mutation { unsuppressAddress(address: "opted.out@owner.example") { address } }` },
  registerWebhookEndpoint: { access: 'tenant-wide', document: `mutation { registerWebhookEndpoint(url: "https://hooks.example.com/in") { secret } }` },
  rotateWebhookSecret: { access: 'tenant-wide', document: `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, variables: (i) => ({ id: i.plan }) },
  deleteWebhookEndpoint: { access: 'tenant-wide', document: `mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`, variables: (i) => ({ id: i.plan }) },
  redeliverWebhook: { access: 'tenant-wide', document: `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }`, variables: (i) => ({ id: i.plan }) },
  createCandidateToken: { access: 'tenant-wide', document: `mutation ($id: ID!) { createCandidateToken(candidateId: $id) { token } }`, variables: (i) => ({ id: i.candidate }) },
  registerSigningKey: { access: 'tenant-wide', document: `mutation { registerSigningKey(kid: "k1", publicKeyPem: "x") { kid } }` },
  deleteSigningKey: { access: 'tenant-wide', document: `mutation { deleteSigningKey(kid: "k1") { kid } }` },
  revokeTokens: { access: 'tenant-wide', document: `mutation { revokeTokens(issuedBefore: "2026-01-01T00:00:00Z") { revokedAt } }` },
  revokeToken: { access: 'tenant-wide', document: `mutation { revokeToken(jti: "x") { revokedAt } }` },
  inboundMessages: { access: 'tenant-wide', document: `{ inboundMessages { edges { node { id } } } }` },
  sendingDomains: { access: 'tenant-wide', document: `{ sendingDomains { domain } }` },
  configureSendingDomain: { access: 'tenant-wide', document: `mutation { configureSendingDomain(domain: "acme.example", selector: "s1", privateKeyPem: "x") { domain } }` },
  removeSendingDomain: { access: 'tenant-wide', document: `mutation { removeSendingDomain(domain: "acme.example") { domain } }` },
  requeueMessage: { access: 'tenant-wide', document: `mutation ($id: ID!) { requeueMessage(id: $id) { id } }`, variables: (i) => ({ id: i.message }) },
  eraseCandidate: { access: 'tenant-wide', document: `mutation ($id: ID!) { eraseCandidate(id: $id) { id } }`, variables: (i) => ({ id: i.candidate }) },
  // The debrief: the candidate's own interviews and their interviewers.
  updateInterview: { access: 'own', document: `mutation ($id: ID!) { updateInterview(id: $id, input: { highlights: "ten years of data pipelines" }) { id } }`, variables: (i) => ({ id: i.interview }) },
  addInterviewer: { access: 'own', document: `mutation ($id: ID!) { addInterviewer(interviewId: $id, input: { name: "Edsger Dijkstra", email: "edsger@northwind.example" }) { id } }`, variables: (i) => ({ id: i.interview }) },
  updateInterviewer: { access: 'own', document: `mutation ($id: ID!) { updateInterviewer(id: $id, input: { topics: ["data contracts"] }) { id } }`, variables: (i) => ({ id: i.interviewer }) },
  removeInterviewer: { access: 'own', document: `mutation ($id: ID!) { removeInterviewer(id: $id) { id } }`, variables: (i) => ({ id: i.interviewer }) },
  // The candidate's page: links are made by the partner's backend, never by a candidate token.
  createReviewLink: { access: 'tenant-wide', document: `mutation ($id: ID!) { createReviewLink(candidateId: $id) { url } }`, variables: (i) => ({ id: i.candidate }) },
  revokeReviewLink: { access: 'tenant-wide', document: `mutation ($id: ID!) { revokeReviewLink(id: $id) { id } }`, variables: (i) => ({ id: i.candidate }) },
};

const MISSING = '01a20000-0000-7000-8000-00000000dead';
const missingIds: Ids = { candidate: MISSING, interview: MISSING, plan: MISSING, step: MISSING, message: MISSING, interviewer: MISSING };
const sameWords = (message: string | undefined) => message?.replace(/[0-9a-f-]{36}/g, 'ID');

describe.each(testDatabaseKinds())('candidate tokens on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  let a: Ids;
  let b: Ids;
  let tokenA: string;

  /** A candidate with an interview that has ended, whose thank-you waits for approval. */
  async function candidateWithHeldMessage(email: string): Promise<Ids> {
    const candidate = await createCandidateVia(app, tenant.token, { email, name: email.split('@')[0] });
    const ended = new Date(Date.now() - 60_000);
    const interview = (
      await scheduleInterviewVia(app, tenant.token, candidate, { startsAt: new Date(ended.getTime() - 3_600_000).toISOString(), endsAt: ended.toISOString() })
    ).id;
    await evaluateDueSteps(database.db, { now: new Date(), batchSize: 100, spell: createEnglishSpellChecker() });
    const read = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { interviewers { id } followUpPlan { id steps { id message { id } } } } }`, { id: interview });
    const plan = read.data.interview.followUpPlan;
    const step = plan.steps.find((each: { message: { id: string } | null }) => each.message) ?? plan.steps[0];
    return { candidate, interview, plan: plan.id, step: step.id, message: step.message?.id, interviewer: read.data.interview.interviewers.at(-1).id };
  }

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
    await gql(app, tenant.token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0, approval: "review" } }) { version } }`);
    await gql(app, tenant.token, `mutation { suppressAddress(address: "opted.out@owner.example") { address } }`);
    a = await candidateWithHeldMessage('ada@example.com');
    b = await candidateWithHeldMessage('bob@example.com');
    expect(a.message && b.message).toBeTruthy();
    const minted = await gql(app, tenant.token, `mutation ($id: ID!) { createCandidateToken(candidateId: $id, ttlSeconds: 900) { token expiresAt } }`, { id: a.candidate });
    tokenA = minted.data.createCandidateToken.token;
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('every query and mutation of the schema has a rule for candidate tokens', () => {
    const schema = buildSchema(schemaText);
    const operations = [schema.getQueryType(), schema.getMutationType()].flatMap((type) => (isObjectType(type) ? Object.keys(type.getFields()) : []));
    const unlisted = operations.filter((name) => !(name in CANDIDATE_ACCESS));
    // Add each to CANDIDATE_ACCESS (own, list or tenant-wide) and enforce it in its service.
    expect(unlisted).toEqual([]);
    expect(Object.keys(CANDIDATE_ACCESS).filter((name) => !operations.includes(name))).toEqual([]);
  });

  it('the minted token carries the candidate claim, the candidate scopes and its lifetime', async () => {
    const payload = JSON.parse(Buffer.from(tokenA.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ tenant: tenant.id, candidate: a.candidate, scope: 'followups:read followups:write' });
    expect(payload.exp - payload.iat).toBe(900);
    expect(typeof payload.jti).toBe('string');
  });

  const entries = Object.entries(CANDIDATE_ACCESS);

  it.each(entries.filter(([, rule]) => rule.access === 'tenant-wide'))('%s is FORBIDDEN to a candidate token', async (_name, rule) => {
    for (const ids of [a, b]) {
      const result = await gql(app, tokenA, rule.document, rule.variables?.(ids));
      expect(result.errors?.[0]?.extensions.code, JSON.stringify(result.errors)).toBe('FORBIDDEN');
      expect(Object.values(result.data ?? {}).every((value) => value === null)).toBe(true);
    }
  });

  it.each(entries.filter(([, rule]) => rule.access === 'own'))('%s with another candidate’s id answers like a missing id, and works on the own', async (_name, rule) => {
    if (rule.access !== 'own') return;
    const foreign = await gql(app, tokenA, rule.document, rule.variables(b));
    const missing = await gql(app, tokenA, rule.document, rule.variables(missingIds));
    expect(foreign.errors?.[0]?.extensions.code, JSON.stringify(foreign.errors)).toBe('NOT_FOUND');
    expect(foreign.status).toBe(missing.status);
    expect(sameWords(foreign.errors?.[0]?.message)).toBe(sameWords(missing.errors?.[0]?.message));
    expect(JSON.stringify(foreign.data)).not.toContain(b.candidate);
    const own = await gql(app, tokenA, rule.document, rule.variables(a));
    expect(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED']).not.toContain(own.errors?.[0]?.extensions.code);
  });

  it.each(entries.filter(([, rule]) => rule.access === 'list'))('%s lists only the candidate’s own rows', async (_name, rule) => {
    const own = await gql(app, tokenA, rule.document, rule.variables?.(a));
    expect(own.errors).toBeUndefined();
    expect(JSON.stringify(own.data)).not.toContain(b.candidate);
    expect(JSON.stringify(own.data)).not.toContain(b.plan);
    const foreign = await gql(app, tokenA, rule.document, rule.variables?.(b));
    expect(foreign.errors).toBeUndefined();
    expect(JSON.stringify(foreign.data)).not.toMatch(new RegExp(`${b.candidate}|${b.interview}|${b.plan}|${b.step}|${b.message}`));
    // The partner's own token sees both, so the lists above are confined, not merely empty.
    const all = await gql(app, tenant.token, rule.document, rule.variables?.(b));
    expect(JSON.stringify(all.data)).toMatch(new RegExp(`${b.candidate}|${b.plan}`));
  });

  it('auditEvents: the candidate’s own entities only; anything else is FORBIDDEN, missing ids too', async () => {
    const rule = CANDIDATE_ACCESS.auditEvents!;
    if (rule.access !== 'own-or-forbidden') throw new Error('auditEvents rule changed');
    for (const id of [a.candidate, a.interview, a.plan, a.step, a.message]) {
      const own = await gql(app, tokenA, rule.document, { id });
      expect(own.errors, id).toBeUndefined();
    }
    for (const id of [b.candidate, b.interview, b.plan, b.step, b.message, tenant.id, MISSING]) {
      const other = await gql(app, tokenA, rule.document, { id });
      expect(other.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
      expect(other.errors?.[0]?.message).toBe('a candidate token can read the audit trail of its own candidate only');
    }
  });

  it('nested fields reach only the candidate’s rows', async () => {
    const deep = await gql(app, tokenA, `{ candidates { edges { node { id interviews { edges { node { id followUpPlan { id steps { id message { id } } } } } } } } } }`);
    expect(deep.errors).toBeUndefined();
    const text = JSON.stringify(deep.data);
    expect(text).toContain(a.plan);
    expect(text).not.toMatch(new RegExp(`${b.candidate}|${b.plan}|${b.message}`));
  });

  it('REST refuses a candidate token for tenant-wide writes', async () => {
    for (const [url, payload] of [
      ['/v1/interviews', interviewInput(a.candidate)],
      ['/v1/replies', { interviewId: a.interview, fromEmail: 'x@example.com' }],
      ['/v1/outcomes', { interviewId: a.interview, outcome: 'HIRED' }],
    ] as const) {
      const response = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokenA}` }, payload });
      expect(response.statusCode, url).toBe(403);
      expect(response.json().error).toBe('FORBIDDEN');
    }
  });

  it('createCandidateToken needs tokens:issue, a real candidate, at most 24 h and the candidate scopes', async () => {
    const mint = (token: string, variables: Record<string, unknown>) =>
      gql(app, token, `mutation ($id: ID!, $ttl: Int, $scope: String) { createCandidateToken(candidateId: $id, ttlSeconds: $ttl, scope: $scope) { token expiresAt } }`, variables);
    const noScope = await mint(tokenFor(tenant.id, { scopes: ['followups:read', 'followups:write', 'policy:admin'] }), { id: a.candidate });
    expect(noScope.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect(noScope.errors?.[0]?.message).toContain('tokens:issue');
    expect((await mint(tenant.token, { id: MISSING })).errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    const other = await createTestTenant(database.db);
    expect((await mint(other.token, { id: a.candidate })).errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    const tooLong = await mint(tenant.token, { id: a.candidate, ttl: 86_401 });
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ttlSeconds' });
    const tooMuch = await mint(tenant.token, { id: a.candidate, scope: 'followups:read policy:admin' });
    expect(tooMuch.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'scope' });
    const readOnly = await mint(tenant.token, { id: a.candidate, scope: 'followups:read' });
    const refused = await gql(app, readOnly.data.createCandidateToken.token, `mutation ($id: ID!) { pauseFollowUpPlan(id: $id) { id } }`, { id: a.plan });
    expect(refused.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });
});
