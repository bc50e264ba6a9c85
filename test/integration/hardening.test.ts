import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, TEST_JWT_SECRET, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';

// Limits that keep hostile or careless requests from hurting the service. They do not depend
// on the database, so PGlite is enough.

describe('GraphQL and HTTP limits', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
    const candidateId = await createCandidateVia(app, tenant.token);
    await scheduleInterviewVia(app, tenant.token, candidateId);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const refusedWith = async (query: string, words: RegExp) => {
    const result = await gql(app, tenant.token, query);
    expect(result.status).toBe(400);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.map((error) => error.message).join(' ')).toMatch(words);
  };

  it('refuses a query nested deeper than the limit', async () => {
    await refusedWith(
      `{ interviews { edges { node { followUpPlan { interview { followUpPlan { interview { followUpPlan { interview { candidate { id } } } } } } } } } } }`,
      /depth/i,
    );
  });

  it('refuses a query whose lists would cost too much, counting list sizes', async () => {
    await refusedWith(
      `{ interviews(first: 100) { edges { node { interviewers { id name } followUpPlan { steps { id decisions { rule } message { id lintFindings { rule } } } } candidate { interviews(first: 100) { edges { node { id } } } } } } } }`,
      /cost/,
    );
  });

  it('allows the partner-sized page of 50 interviews with their plans', async () => {
    const result = await gql(
      app,
      tenant.token,
      `{ interviews(first: 50) { edges { node { id candidate { name } interviewers { name email } followUpPlan { status steps { kind status dueAt recipient { name } } } } } } }`,
    );
    expect(result.errors).toBeUndefined();
  });

  it('refuses too many aliases and too many operations in one document', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: policy { version }`).join(' ');
    await refusedWith(`{ ${aliases} }`, /aliases/);
    const operations = Array.from({ length: 6 }, (_, i) => `query q${i} { policy { version } }`).join(' ');
    const result = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      payload: { query: operations, operationName: 'q0' },
    });
    expect(result.statusCode).toBe(400);
    expect(JSON.stringify(result.json())).toMatch(/more than 5 operations/);
  });

  it('refuses batched requests', async () => {
    const result = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      payload: JSON.stringify([{ query: '{ policy { version } }' }, { query: '{ policy { version } }' }]),
    });
    expect(result.statusCode).toBe(400);
  });

  it('turns introspection and GraphiQL off unless enabled', async () => {
    await refusedWith(`{ __schema { types { name } } }`, /introspection/i);
    expect((await app.inject('/graphiql')).statusCode).toBe(404);
    const open = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false, introspection: true });
    try {
      const result = await gql(open, tenant.token, `{ __schema { queryType { name } } }`);
      expect(result.data.__schema.queryType.name).toBe('Query');
      expect((await open.inject('/graphiql')).statusCode).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('never shows an internal error’s details', async () => {
    // A database missing a table: the driver's error names it, the partner must not see that.
    const damaged = await openTestDatabase('pglite');
    const damagedTenant = await createTestTenant(damaged.db);
    const failing = await buildApp({ db: damaged.db, jwtSecret: TEST_JWT_SECRET, logger: false });
    try {
      const candidateId = await createCandidateVia(failing, damagedTenant.token);
      const { id } = await scheduleInterviewVia(failing, damagedTenant.token, candidateId);
      await sql`DROP TABLE replies`.execute(damaged.db);
      const result = await gql(failing, damagedTenant.token, `mutation ($id: ID!) { recordReply(input: { interviewId: $id, fromEmail: "x@y.example" }) { id } }`, { id });
      expect(result.errors).toEqual([{ message: 'Internal server error', path: ['recordReply'], locations: expect.any(Array), extensions: { code: 'INTERNAL' } }]);
      const rest = await failing.inject({
        method: 'POST',
        url: '/v1/replies',
        headers: { authorization: `Bearer ${damagedTenant.token}` },
        payload: { interviewId: id, fromEmail: 'x@y.example' },
      });
      expect(rest.statusCode).toBe(500);
      expect(rest.json()).toEqual({ error: 'INTERNAL', message: 'Internal server error' });
    } finally {
      await failing.close();
      await damaged.close();
    }
  });

  it('refuses a body over the size limit', async () => {
    const result = await app.inject({
      method: 'POST',
      url: '/v1/interviews',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(result.statusCode).toBe(413);
  });

  it('answers with the caller’s request id, or a fresh one', async () => {
    const given = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'partner-abc-123' } });
    expect(given.headers['x-request-id']).toBe('partner-abc-123');
    const hostile = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline' } });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('per-tenant rate limit and CORS', () => {
  let database: TestDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    app = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false, rateLimitPerMinute: 3, corsOrigins: ['https://app.partner.example'] });
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('limits each tenant on its own, with Retry-After, in the shape of the API called', async () => {
    const busy = await createTestTenant(database.db);
    const quiet = await createTestTenant(database.db);
    for (let i = 0; i < 3; i += 1) expect((await gql(app, busy.token, `{ policy { version } }`)).status).toBe(200);
    const limited = await gql(app, busy.token, `{ policy { version } }`);
    expect(limited.status).toBe(429);
    expect(limited.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
    const rest = await app.inject({ method: 'POST', url: '/v1/outcomes', headers: { authorization: `Bearer ${busy.token}` }, payload: {} });
    expect(rest.statusCode).toBe(429);
    expect(rest.json().error).toBe('RATE_LIMITED');
    expect(Number(rest.headers['retry-after'])).toBeGreaterThan(0);
    expect((await gql(app, quiet.token, `{ policy { version } }`)).status).toBe(200);
    // Health checks are never limited.
    for (let i = 0; i < 5; i += 1) expect((await app.inject('/healthz')).statusCode).toBe(200);
  });

  it('allows the configured origins only', async () => {
    const allowed = await app.inject({ method: 'OPTIONS', url: '/graphql', headers: { origin: 'https://app.partner.example', 'access-control-request-method': 'POST' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.partner.example');
    const other = await app.inject({ method: 'OPTIONS', url: '/graphql', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
