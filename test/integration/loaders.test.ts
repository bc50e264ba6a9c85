import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant } from '../support/app.js';
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
});
