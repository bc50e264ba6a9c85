import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCandidateVia, createTestApp, createTestTenant, gql, interviewInput, type TestTenant, tokenFor } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

describe.each(testDatabaseKinds())('REST on %s', (kind) => {
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

  const post = (payload: unknown, token = tenant.token) =>
    app.inject({ method: 'POST', url: '/v1/interviews', headers: { authorization: `Bearer ${token}` }, payload: payload as object });

  it('POST /v1/interviews stores one interview and answers 201 with it', async () => {
    const response = await post(interviewInput(candidateId, { channel: 'linkedin', companyFollowUpStyle: 'thank_you_only' }));
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      candidateId,
      positionTitle: 'Senior Data Engineer',
      channel: 'LINKEDIN',
      status: 'SCHEDULED',
      company: { name: 'Northwind Analytics', followUpStyle: 'THANK_YOU_ONLY' },
    });
    expect(body.interviewers).toHaveLength(2);
    const read = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { id channel } }`, { id: body.id });
    expect(read.data.interview).toEqual({ id: body.id, channel: 'LINKEDIN' });
  });

  it('answers 400 with the field for an invalid interview', async () => {
    const response = await post(interviewInput(candidateId, { interviewers: [{ name: 'No Contact' }] }));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'interviewers.0' });
  });

  it('refuses unknown fields by name', async () => {
    const response = await post({ ...interviewInput(candidateId), positon: 'typo' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'positon' });
  });

  it('a bulk request stores the valid items and reports each one', async () => {
    const response = await post([
      interviewInput(candidateId),
      interviewInput(candidateId, { endsAt: '2026-03-03T13:00:00Z' }),
      interviewInput('01a20000-0000-7000-8000-000000000000'),
      interviewInput(candidateId, { positionTitle: 'Platform Engineer' }),
    ]);
    expect(response.statusCode).toBe(207);
    const { results } = response.json();
    expect(results.map((r: any) => [r.index, r.status])).toEqual([
      [0, 201],
      [1, 400],
      [2, 404],
      [3, 201],
    ]);
    expect(results[1].error).toMatchObject({ error: 'BAD_USER_INPUT', field: 'endsAt' });
    expect(results[3].interview.positionTitle).toBe('Platform Engineer');
    for (const stored of [results[0], results[3]]) {
      const read = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { id } }`, { id: stored.interview.id });
      expect(read.data.interview.id).toBe(stored.interview.id);
    }
  });

  it('refuses an empty or oversized bulk request, malformed JSON, and a read-only token', async () => {
    expect((await post([])).statusCode).toBe(400);
    expect((await post(Array.from({ length: 101 }, () => interviewInput(candidateId)))).json()).toMatchObject({ error: 'BAD_USER_INPUT' });
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/interviews',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      payload: '{"candidateId": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toBe('BAD_USER_INPUT');
    const readOnly = await post(interviewInput(candidateId), tokenFor(tenant.id, { scopes: ['followups:read'] }));
    expect(readOnly.statusCode).toBe(403);
  });

  it('describes the REST surface as OpenAPI at /docs', async () => {
    const spec = (await app.inject('/docs/json')).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(spec.paths['/v1/interviews'].post.requestBody).toBeDefined();
    expect(spec.paths['/healthz']).toBeDefined();
    expect((await app.inject('/docs')).statusCode).toBeLessThan(400);
  });

  it('unknown routes answer 404 with the error shape', async () => {
    const response = await app.inject('/v2/nothing');
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toBe('NOT_FOUND');
  });
});
