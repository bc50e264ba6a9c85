import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { ALL_SCOPES, type Caller, type ServiceContext } from '../../src/services/context.js';
import { getCandidatesByIds, listCandidatesPage } from '../../src/services/candidates.js';
import { getPlansByIds, getPlansByInterviewIds, getStepsByIds, getStepsByPlanIds, listStepsPage } from '../../src/services/follow-up-plans.js';
import { getInterviewersByInterviewIds, getInterviewsByIds, listInterviewsPage } from '../../src/services/interviews.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

const PAGE_WITH_RELATIONS = /* GraphQL */ `
  query ($first: Int!) {
    interviews(first: $first) {
      edges {
        node {
          id positionTitle candidate { id name email } company { name } interviewers { id name email }
          followUpPlan { status steps { kind status dueAt recipient { name } decisions { rule } } }
        }
      }
    }
  }
`;

describe.each(testDatabaseKinds())('loaders on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  let counting = false;
  let queries: string[] = [];

  beforeAll(async () => {
    database = await openTestDatabase(kind, {
      onQuery: (event) => {
        if (counting && event.level === 'query') queries.push(event.query.sql);
      },
    });
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
    const candidates = [];
    for (let i = 0; i < 10; i += 1) candidates.push(await createCandidateVia(app, tenant.token, { email: `c${i}@example.com` }));
    for (let i = 0; i < 50; i += 1) await scheduleInterviewVia(app, tenant.token, candidates[i % 10]!, { companyName: `Company ${i % 7}` });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  async function countQueries(first: number): Promise<number> {
    queries = [];
    counting = true;
    const result = await gql(app, tenant.token, PAGE_WITH_RELATIONS, { first });
    counting = false;
    expect(result.errors).toBeUndefined();
    expect(result.data.interviews.edges).toHaveLength(first);
    expect(result.data.interviews.edges.every((edge: any) => edge.node.interviewers.length === 2 && edge.node.candidate.name)).toBe(true);
    expect(result.data.interviews.edges.every((edge: any) => edge.node.followUpPlan.steps.length === 4)).toBe(true);
    return queries.length;
  }

  it('a page of 50 interviews with candidates, companies, interviewers and plan steps costs a constant number of queries', async () => {
    const fifty = await countQueries(50);
    const five = await countQueries(5);
    // One for the page, one per related field (candidates, companies, interviewers, plans,
    // steps); the token's tenant is remembered after the first request.
    expect(fifty).toBe(6);
    expect(five).toBe(fifty);
  });

  async function queriesOf(query: string, variables: Record<string, unknown> = {}) {
    queries = [];
    counting = true;
    const result = await gql(app, tenant.token, query, variables);
    counting = false;
    expect(result.errors).toBeUndefined();
    return { data: result.data, queries: [...queries] };
  }

  it('reads only the columns a query selects: a page without decisions never reads them', async () => {
    const lean = await queriesOf(`{ interviews(first: 5) { edges { node { id followUpPlan { steps { kind dueAt } } } } } }`);
    const stepsQuery = lean.queries.find((text) => /from "follow_up_steps"/.test(text))!;
    expect(stepsQuery).toMatch(/"kind"/);
    expect(stepsQuery).toMatch(/"due_at"/);
    expect(stepsQuery).not.toMatch(/"decisions"|"recipient_name"|\*/);
    const interviewsQuery = lean.queries.find((text) => /from "interviews"/.test(text))!;
    expect(interviewsQuery).not.toMatch(/"topics"|"position_title"|\*/);

    const withDecisions = await queriesOf(`{ interviews(first: 5) { edges { node { followUpPlan { steps { decisions { rule outcome } } } } } } }`);
    expect(withDecisions.queries.find((text) => /from "follow_up_steps"/.test(text))).toMatch(/"decisions"/);
    const steps = withDecisions.data.interviews.edges.flatMap((edge: any) => edge.node.followUpPlan.steps);
    expect(steps.every((step: any) => step.decisions.length > 0 && step.decisions.every((d: any) => d.rule && d.outcome))).toBe(true);
  });

  // Every field of the projected types, as a tree: `true` is a leaf, an object a selection.
  const EVERY_FIELD: Selection = {
    id: true, positionTitle: true, startsAt: true, endsAt: true, timezone: true, channel: true, decisionExpectedBy: true,
    callBackExpectedBy: true, topics: true, status: true, outcome: true, outcomeAt: true, createdAt: true, updatedAt: true,
    candidate: { id: true, name: true, email: true, phone: true, timezone: true, consent: true, consentAt: true, linkedinUrl: true, signature: true, createdAt: true, updatedAt: true },
    company: { name: true },
    interviewers: { id: true, name: true, email: true, phone: true, title: true, timezone: true, preferredChannel: true, isPrimaryContact: true },
    followUpPlan: {
      id: true, status: true, statusReason: true, createdAt: true, updatedAt: true,
      interview: { id: true, positionTitle: true },
      steps: {
        id: true, kind: true, channel: true, status: true, reason: true, dueAt: true, windowEndsAt: true, late: true, sentAt: true, createdAt: true, updatedAt: true,
        recipient: { name: true, email: true, phone: true, timezone: true, interviewerId: true },
        decisions: { rule: true, outcome: true, detail: true },
        message: { id: true },
        plan: { id: true, status: true },
      },
    },
  };

  it('a page asking for any part of the fields answers that part exactly as a page asking for all of them', async () => {
    const pageOf = async (selection: Selection) =>
      (await queriesOf(`{ interviews(first: 3) { edges { node { ${render(selection)} } } } }`)).data.interviews.edges.map((edge: any) => edge.node);
    const everything = await pageOf(EVERY_FIELD);
    expect(everything[0].followUpPlan.steps.length).toBeGreaterThan(0);
    await fc.assert(
      fc.asyncProperty(subSelection(EVERY_FIELD), async (selection) => {
        expect(await pageOf(selection)).toEqual(everything.map((node: any) => pick(node, selection)));
      }),
      { numRuns: 40 },
    );
  });

  it('every view field read alone (only its columns fetched) equals the same field of a whole read', async () => {
    const ctx = { db: database.db } as ServiceContext;
    const caller: Caller = { tenantId: tenant.id, sub: 'test', scopes: new Set(ALL_SCOPES) };
    const interviews = (await listInterviewsPage(ctx, caller, { first: 3 })).items;
    const interviewIds = interviews.map((interview) => interview.id);
    const plans = await getPlansByInterviewIds(ctx, caller, interviewIds);
    const planIds = plans.map((plan) => plan!.id);
    const stepIds = (await getStepsByPlanIds(ctx, caller, planIds)).flat().map((step) => step.id);
    const readers: Record<string, (fields?: readonly string[]) => Promise<unknown[]>> = {
      'interviews page': async (fields) => (await listInterviewsPage(ctx, caller, { first: 3 }, {}, fields)).items,
      'interviews by id': (fields) => getInterviewsByIds(ctx, caller, interviewIds, fields),
      'candidates page': async (fields) => (await listCandidatesPage(ctx, caller, { first: 3 }, {}, fields)).items,
      'candidates by id': (fields) => getCandidatesByIds(ctx, caller, interviews.map((interview) => interview.candidateId), fields),
      'interviewers of interviews': async (fields) => (await getInterviewersByInterviewIds(ctx, caller, interviewIds, fields)).flat(),
      'plans of interviews': (fields) => getPlansByInterviewIds(ctx, caller, interviewIds, fields),
      'plans by id': (fields) => getPlansByIds(ctx, caller, planIds, fields),
      'steps of plans': async (fields) => (await getStepsByPlanIds(ctx, caller, planIds, fields)).flat(),
      'steps by id': (fields) => getStepsByIds(ctx, caller, stepIds, fields),
      'steps page': async (fields) => (await listStepsPage(ctx, caller, { first: 10 }, {}, fields)).items,
    };
    for (const [name, read] of Object.entries(readers)) {
      const whole = (await read()) as Array<Record<string, unknown>>;
      expect(whole.length, name).toBeGreaterThan(0);
      for (const field of Object.keys(whole[0]!)) {
        const alone = (await read([field])) as Array<Record<string, unknown>>;
        expect(alone.map((view) => view[field]), `${name}: ${field}`).toEqual(whole.map((view) => view[field]));
      }
    }
  });

  it('relation fields find their targets when the query asks for nothing else (their keys are read anyway)', async () => {
    const { data } = await queriesOf(`{ interviews(first: 3) { edges { node {
      candidate { name } company { name } interviewers { name }
      followUpPlan { interview { positionTitle } steps { plan { status } message { status } } }
    } } } }`);
    for (const { node } of data.interviews.edges) {
      expect(node.candidate.name).toBeTruthy();
      expect(node.interviewers).toHaveLength(2);
      expect(node.followUpPlan.interview.positionTitle).toBeTruthy();
      expect(node.followUpPlan.steps).toHaveLength(4);
      expect(node.followUpPlan.steps.every((step: any) => ['ACTIVE', 'COMPLETED'].includes(step.plan.status) && step.message === null)).toBe(true);
    }
  });
});

type Selection = { [field: string]: true | Selection };

function render(selection: Selection): string {
  return Object.entries(selection)
    .map(([field, sub]) => (sub === true ? field : `${field} { ${render(sub)} }`))
    .join(' ');
}

/** Any non-empty part of a selection (a nested selection, when kept, keeps at least one field). */
function subSelection(selection: Selection): fc.Arbitrary<Selection> {
  const entries = Object.entries(selection).map(([field, sub]) =>
    fc.option(sub === true ? fc.constant<true | Selection>(true) : subSelection(sub), { nil: undefined }).map((kept) => [field, kept] as const),
  );
  return fc
    .tuple(...entries)
    .map((kept) => Object.fromEntries(kept.filter(([, sub]) => sub !== undefined)) as Selection)
    .filter((kept) => Object.keys(kept).length > 0);
}

function pick(value: any, selection: Selection): any {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item) => pick(item, selection));
  return Object.fromEntries(Object.entries(selection).map(([field, sub]) => [field, sub === true ? value[field] : pick(value[field], sub)]));
}
