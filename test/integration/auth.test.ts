import type { FastifyInstance } from 'fastify';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createTestTenant, gql, TEST_JWT_SECRET, type TestTenant, tokenFor } from '../support/app.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';

// Authentication is the same on both databases; PGlite is enough.
describe('authentication', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const sign = (payload: Record<string, unknown>, key = TEST_JWT_SECRET, options: Record<string, unknown> = {}) =>
    createSigner({ key, algorithm: 'HS256', ...options })(payload);

  const badTokens: Array<[string, () => string | null]> = [
    ['no token', () => null],
    ['garbage', () => 'not.a.token'],
    ['a token signed with another secret', () => sign({ tenant: tenant.id, sub: 'x', scope: 'followups:read' }, 'another-secret-of-enough-length')],
    ['an expired token', () => sign({ tenant: tenant.id, sub: 'x', scope: 'followups:read', exp: Math.floor(Date.now() / 1000) - 60 })],
    ['a token for a tenant that does not exist', () => tokenFor('01a20000-0000-7000-8000-000000000000')],
    ['a token without a tenant', () => sign({ sub: 'x', scope: 'followups:read' })],
    ['an unsigned token (alg none)', () => createSigner({ algorithm: 'none' })({ tenant: tenant.id, sub: 'x', scope: 'followups:read' })],
  ];

  it.each(badTokens)('GraphQL answers 401 UNAUTHENTICATED for %s', async (_name, token) => {
    const result = await gql(app, token(), `{ candidates { edges { cursor } } }`);
    expect(result.status).toBe(401);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });

  it.each(badTokens)('REST answers 401 for %s', async (_name, token) => {
    const value = token();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/interviews',
      headers: value ? { authorization: `Bearer ${value}` } : {},
      payload: {},
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: 'UNAUTHENTICATED' });
  });

  it('accepts a valid token and scopes it', async () => {
    const ok = await gql(app, tenant.token, `{ candidates { edges { cursor } } }`);
    expect(ok.status).toBe(200);
    expect(ok.errors).toBeUndefined();
  });

  it('says which scope is missing', async () => {
    const result = await gql(app, tokenFor(tenant.id, { scopes: [] }), `{ candidates { edges { cursor } } }`);
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(result.errors?.[0]?.message).toContain('followups:read');
  });

  it('health checks need no token', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready' });
  });
});
