import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createTestTenant, interviewInput, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// REST parity for systems without GraphQL: candidates, an interview with its plan, messages;
// Stripe-like pages; errors that name every problem, without GraphQL's `input.` prefix.

describe.each(testDatabaseKinds())('REST resources on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  let other: TestTenant;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
    other = await createTestTenant(database.db);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, token = tenant.token) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  it('creates, reads, changes and lists candidates, page by page', async () => {
    const ids: string[] = [];
    for (const name of ['Ada Lovelace', 'Kenji Watanabe', 'Amara Okafor']) {
      const created = await call('POST', '/v1/candidates', { name, email: `${name.split(' ')[0]!.toLowerCase()}@example.com`, consent: true });
      expect(created.statusCode, created.body).toBe(201);
      ids.push(created.json().id);
    }
    const read = await call('GET', `/v1/candidates/${ids[1]}`);
    expect(read.json()).toMatchObject({ id: ids[1], name: 'Kenji Watanabe', consent: true });
    const changed = await call('PATCH', `/v1/candidates/${ids[1]}`, { timezone: 'Asia/Tokyo', phone: null });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ timezone: 'Asia/Tokyo', phone: null, name: 'Kenji Watanabe' });

    const first = (await call('GET', '/v1/candidates?limit=2')).json();
    expect(first).toMatchObject({ object: 'list', has_more: true });
    expect(first.data.map((candidate: { id: string }) => candidate.id)).toEqual(ids.slice(0, 2));
    const second = (await call('GET', `/v1/candidates?limit=2&starting_after=${ids[1]}`)).json();
    expect(second).toMatchObject({ has_more: false });
    expect(second.data.map((candidate: { id: string }) => candidate.id)).toEqual([ids[2]]);

    // Another tenant's id looks exactly like a missing one.
    expect((await call('GET', `/v1/candidates/${ids[0]}`, undefined, other.token)).statusCode).toBe(404);
    expect((await call('GET', '/v1/candidates', undefined, other.token)).json().data).toEqual([]);
  });

  it('names every problem, each by its field, without an input. prefix', async () => {
    const response = await call('POST', '/v1/candidates', { name: '', email: 'not-an-address', consnt: true });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.error).toBe('BAD_USER_INPUT');
    expect(body.field).not.toMatch(/^input\./);
    const fields = body.problems.map((problem: { field: string }) => problem.field).sort();
    expect(fields).toEqual(['consent', 'consnt', 'email', 'name']);
    for (const problem of body.problems) expect(problem.message.startsWith(problem.field)).toBe(true);

    const page = await call('GET', '/v1/candidates?limit=500&starting_after=nope');
    expect(page.statusCode).toBe(400);
    expect(page.json().problems.map((problem: { field: string }) => problem.field)).toEqual(['limit', 'starting_after']);
  });

  it('reads an interview with its plan and steps, and lists messages', async () => {
    const candidate = (await call('POST', '/v1/candidates', { name: 'Grace Okoye', email: 'grace.okoye@example.com', consent: true })).json();
    const scheduled = await call('POST', '/v1/interviews', interviewInput(candidate.id, { startsAt: '2031-06-03T14:00:00Z', endsAt: '2031-06-03T15:00:00Z' }));
    expect(scheduled.statusCode).toBe(201);
    const detail = await call('GET', `/v1/interviews/${scheduled.json().id}`);
    expect(detail.statusCode).toBe(200);
    const body = detail.json();
    expect(body).toMatchObject({ id: scheduled.json().id, candidateId: candidate.id, followUpPlan: { status: 'ACTIVE' } });
    expect(body.followUpPlan.steps.length).toBeGreaterThan(0);
    for (const step of body.followUpPlan.steps) {
      expect(step.kind).toMatch(/^[A-Z_]+$/);
      for (const decision of step.decisions) expect(['PASS', 'ADJUST', 'BLOCK']).toContain(decision.outcome);
    }
    const dueTimes = body.followUpPlan.steps.map((step: { dueAt: string }) => step.dueAt);
    expect([...dueTimes].sort()).toEqual(dueTimes);
    expect((await call('GET', `/v1/interviews/${scheduled.json().id}`, undefined, other.token)).statusCode).toBe(404);

    const messages = await call('GET', '/v1/messages?limit=5');
    expect(messages.statusCode).toBe(200);
    expect(messages.json()).toEqual({ object: 'list', data: [], has_more: false });
  });

  it('documents every response with its schema in OpenAPI', async () => {
    const document = (await app.inject('/docs/json')).json();
    for (const path of ['/v1/candidates', '/v1/candidates/{id}', '/v1/interviews/{id}', '/v1/messages', '/v1/interviews', '/v1/replies', '/v1/outcomes']) {
      expect(document.paths[path], path).toBeDefined();
      for (const operation of Object.values(document.paths[path]) as Array<{ responses: Record<string, { description: string; content?: unknown }> }>) {
        for (const [status, response] of Object.entries(operation.responses)) {
          expect(response.description, `${path} ${status}`).not.toBe('Default Response');
          expect(response.content, `${path} ${status}`).toBeDefined();
        }
      }
    }
  });
});
