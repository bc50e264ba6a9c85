import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_CANDIDATE, createTestApp, createTestTenant, gql, type TestTenant, tokenFor } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

const CANDIDATE_FIELDS = 'id name email phone timezone consent consentAt linkedinUrl signature createdAt updatedAt';

describe.each(testDatabaseKinds())('candidates on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const create = (input: Record<string, unknown>, token = tenant.token) =>
    gql(app, token, CREATE_CANDIDATE, { input: { name: 'Ada Lovelace', email: 'ada@example.com', consent: true, ...input } });

  it('creates a candidate, records consent time, and reads it back', async () => {
    const created = await create({ phone: '+442071838750', timezone: 'europe/london' });
    expect(created.errors).toBeUndefined();
    const candidate = created.data.createCandidate;
    expect(candidate).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', phone: '+442071838750', timezone: 'Europe/London', consent: true });
    expect(Date.parse(candidate.consentAt)).not.toBeNaN();

    const read = await gql(app, tenant.token, `query ($id: ID!) { candidate(id: $id) { ${CANDIDATE_FIELDS} } }`, { id: candidate.id });
    expect(read.data.candidate).toMatchObject({ id: candidate.id, name: 'Ada Lovelace', signature: null });
  });

  it('without consent stores no consent time', async () => {
    const created = await create({ consent: false });
    expect(created.data.createCandidate).toMatchObject({ consent: false, consentAt: null });
  });

  it.each([
    [{ email: 'not-an-email' }, 'email'],
    [{ email: 'a@b' }, 'email'],
    [{ phone: '0171 555 0123' }, 'phone'],
    [{ phone: '+0123456789' }, 'phone'],
    [{ timezone: 'Mars/Olympus_Mons' }, 'timezone'],
    [{ name: '' }, 'input.name'],
    [{ name: 'x'.repeat(201) }, 'input.name'],
    [{ name: 'Ada\r\nBcc: victim@example.com' }, 'input.name'],
    [{ linkedinUrl: 'javascript:alert(1)' }, 'input.linkedinUrl'],
  ])('refuses %j with BAD_USER_INPUT naming %s', async (input, field) => {
    const result = await create(input);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toContain(field.split('.').at(-1));
  });

  it('updates only the given fields, clears with null, and audits what changed', async () => {
    const id = (await create({ phone: '+14155550100' })).data.createCandidate.id;
    const updated = await gql(
      app,
      tenant.token,
      `mutation ($id: ID!, $input: UpdateCandidateInput!) { updateCandidate(id: $id, input: $input) { ${CANDIDATE_FIELDS} } }`,
      { id, input: { name: 'Ada King', phone: null, consent: false } },
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data.updateCandidate).toMatchObject({ name: 'Ada King', email: 'ada@example.com', phone: null, consent: false, consentAt: null });

    const audit = await gql(app, tenant.token, `query ($id: ID!) { auditEvents(entityId: $id) { edges { node { actor action entityType data } } } }`, { id });
    const events = audit.data.auditEvents.edges.map((edge: any) => edge.node);
    expect(events.map((event: any) => event.action)).toEqual(['candidate.created', 'candidate.updated']);
    expect(events[1].actor).toBe(`user@${tenant.slug}`);
    // Field names, never the values (audit data holds no personal data, so erasure need not rewrite it).
    expect(events[0].data).toEqual({ fields: ['consent', 'email', 'name', 'phone'] });
    expect(events[1].data).toEqual({ changed: ['consent', 'name', 'phone'] });
    expect(JSON.stringify(events)).not.toMatch(/Ada|example\.com|\+1415/);
  });

  it('pages through candidates with opaque cursors in a stable order', async () => {
    const other = await createTestTenant(database.db);
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) ids.push((await create({ email: `p${i}@example.com` }, other.token)).data.createCandidate.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await gql(
        app,
        other.token,
        `query ($after: String) { candidates(first: 3, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      seen.push(...page.data.candidates.edges.map((edge: any) => edge.node.id));
      if (!page.data.candidates.pageInfo.hasNextPage) break;
      after = page.data.candidates.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
  });

  it('filters by email, case-insensitively', async () => {
    await create({ email: 'Filter.Me@Example.com' });
    const result = await gql(app, tenant.token, `{ candidates(filter: { email: "filter.me@example.com" }) { edges { node { email } } } }`);
    expect(result.data.candidates.edges).toEqual([{ node: { email: 'Filter.Me@Example.com' } }]);
  });

  it('caps pages at 100 and refuses foreign cursors', async () => {
    const tooMany = await gql(app, tenant.token, `{ candidates(first: 101) { edges { cursor } } }`);
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const badCursor = await gql(app, tenant.token, `{ candidates(after: "bm9wZQ") { edges { cursor } } }`);
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('needs the write scope to create and the read scope to read', async () => {
    const readOnly = tokenFor(tenant.id, { scopes: ['followups:read'] });
    const refused = await create({}, readOnly);
    expect(refused.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    const writeOnly = tokenFor(tenant.id, { scopes: ['followups:write'] });
    const unread = await gql(app, writeOnly, `{ candidates { edges { cursor } } }`);
    expect(unread.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it('answers NOT_FOUND for a missing or malformed id', async () => {
    for (const id of ['01a20000-0000-7000-8000-000000000000', 'nope', "1' OR '1'='1"]) {
      const result = await gql(app, tenant.token, `query ($id: ID!) { candidate(id: $id) { id } }`, { id });
      expect(result.data.candidate).toBeNull();
      expect(result.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    }
  });
});
