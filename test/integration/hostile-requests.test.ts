import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, interviewInput, TEST_JWT_SECRET, tokenFor, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';

// Requests built to hurt the service rather than use it: documents too large or too deep to
// parse safely, NUL characters where PostgreSQL cannot take them, JSON nested past any real
// input, floods of bad tokens. Each must be refused as the caller's fault (400 or 429, never
// 500), say which field or limit, and leave nothing stored. The limits do not depend on the
// database, so PGlite is enough.

const TABLES = ['candidates', 'companies', 'interviews', 'interviewers', 'replies', 'policies', 'audit_events'] as const;

/** A value nested `levels` arrays deep, built without recursion. */
function nestedArrays(levels: number, inner: unknown = 'x'): unknown {
  let value = inner;
  for (let i = 0; i < levels; i += 1) value = [value];
  return value;
}

/** The JSON text of `levels` nested arrays, for depths JSON.stringify cannot write. */
function nestedArraysJson(levels: number): string {
  return `${'['.repeat(levels)}"x"${']'.repeat(levels)}`;
}

/** `fragment F0 on Query { ...F1 } … fragment Fn on Query { policy { version } }`, used from a query. */
function fragmentChain(length: number): string {
  const parts = ['query Chain { ...F0 }'];
  for (let i = 0; i < length; i += 1) parts.push(`fragment F${i} on Query { ...F${i + 1} }`);
  parts.push(`fragment F${length} on Query { policy { version } }`);
  return parts.join('\n');
}

describe('hostile requests', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  let candidateId: string;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
    candidateId = await createCandidateVia(app, tenant.token);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  async function rowCounts(): Promise<string> {
    const counts = await Promise.all(
      TABLES.map(async (table) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(database.db)).rows[0]!.n),
    );
    return TABLES.map((table, index) => `${table}:${counts[index]}`).join(',');
  }

  /** The GraphQL call is refused with 400 BAD_USER_INPUT naming `field` (or a field matching it), and stores nothing. */
  async function refusedGraphQL(call: () => Promise<{ status: number; data: unknown; errors?: Array<{ message: string; extensions: { code: string; field?: string } }> }>, field: string | RegExp, words: RegExp) {
    const before = await rowCounts();
    const result = await call();
    expect(result.status).toBe(400);
    expect(result.data).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field: typeof field === 'string' ? field : expect.stringMatching(field) });
    expect(result.errors![0]!.message).toMatch(words);
    expect(await rowCounts()).toBe(before);
  }

  describe('query documents are refused before they are parsed', () => {
    it('over 64 KiB', async () => {
      const padded = `{ policy { version } } # ${'x'.repeat(64 * 1024)}`;
      await refusedGraphQL(() => gql(app, tenant.token, padded), 'query', /bytes, over the limit of 65536/);
      // Bytes, not characters: 22,000 three-byte characters are 66,000 bytes.
      await refusedGraphQL(() => gql(app, tenant.token, `{ policy { version } } # ${'€'.repeat(22_000)}`), 'query', /over the limit of 65536/);
      // Just under the limit is served.
      const result = await gql(app, tenant.token, `{ policy { version } } # ${'x'.repeat(60 * 1024)}`);
      expect(result.errors).toBeUndefined();
    });

    it('over 5,000 tokens', async () => {
      await refusedGraphQL(() => gql(app, tenant.token, `{ ${'policy { version } '.repeat(1300)} }`), 'query', /more than 5000 tokens/);
      // 4,900-odd tokens are parsed, validated and run: what refuses this one is the policy's own rule.
      const holidays = Array.from({ length: 2_440 }, () => '"2026-12-25"').join(', ');
      const under = await gql(app, tenant.token, `mutation { updatePolicy(document: { holidays: [${holidays}] }) { version } }`);
      expect(under.errors?.[0]).toMatchObject({ message: 'holidays: expected at most 1000 holidays', path: ['updatePolicy'] });
    });

    it('selection sets, lists and objects nested deeper than 64', async () => {
      const selections = `{ ${'interviews { edges { node { '.repeat(1200)} id ${'} } } '.repeat(1200)} }`;
      await refusedGraphQL(() => gql(app, tenant.token, selections), 'query', /more than 64 levels deep/);
      const list = `mutation { updatePolicy(document: { holidays: ${'['.repeat(10_000)}${']'.repeat(10_000)} }) { version } }`;
      await refusedGraphQL(() => gql(app, tenant.token, list), 'query', /more than 64 levels deep/);
      const objects = `mutation { updatePolicy(document: ${'{ a: '.repeat(5_000)}1${' }'.repeat(5_000)}) { version } }`;
      await refusedGraphQL(() => gql(app, tenant.token, objects), 'query', /more than 64 levels deep/);
      // Braces inside strings and comments are not nesting.
      const quoted = `{ policy { version } } # ${'{'.repeat(100)}\nquery Named { candidates(after: "${'{['.repeat(100)}") { edges { cursor } } }`;
      const result = await app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
        payload: { query: quoted, operationName: 'Named' },
      });
      expect(result.json().errors?.[0]?.message ?? '').not.toMatch(/levels deep/);
    });

    it('a 20,000-deep fragment chain answers 400, also when the size and token limits are lifted', async () => {
      const chain = fragmentChain(20_000);
      await refusedGraphQL(() => gql(app, tenant.token, chain), 'query', /over the limit/);
      const lifted = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false, graphqlLimits: { maxBytes: 10_000_000, maxTokens: 10_000_000 } });
      try {
        await refusedGraphQL(() => gql(lifted, tenant.token, chain), 'query', /fragments inside fragments 20001 deep, over the limit of 32/);
        // A chain of reasonable depth is served.
        expect((await gql(lifted, tenant.token, fragmentChain(20))).data).toEqual({ policy: { version: 1 } });
      } finally {
        await lifted.close();
      }
    });

    it('a syntax tree sent as JSON instead of GraphQL text is refused', async () => {
      const tree = JSON.stringify({ kind: 'Document', definitions: [{ kind: 'OperationDefinition', operation: 'query', selectionSet: { kind: 'SelectionSet', selections: [] } }] });
      await refusedGraphQL(() => gql(app, tenant.token, tree), 'query', /must be a GraphQL document/);
    });
  });

  describe('NUL characters answer BAD_USER_INPUT naming the field, and never reach the database', () => {
    const createCandidate = `mutation ($input: CreateCandidateInput!) { createCandidate(input: $input) { id } }`;

    it('in GraphQL variables', async () => {
      await refusedGraphQL(
        () => gql(app, tenant.token, createCandidate, { input: { name: 'Ada\u0000Lovelace', email: 'ada@example.com', consent: true } }),
        'variables.input.name',
        /must not contain NUL characters/,
      );
      await refusedGraphQL(
        () => gql(app, tenant.token, `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`, { d: { templates: { thankYou: { subject: 'Thanks\u0000' } } } }),
        'variables.d.templates.thankYou.subject',
        /NUL/,
      );
      // In a field name, too.
      await refusedGraphQL(() => gql(app, tenant.token, `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`, { d: { 'a\u0000b': 1 } }), 'variables.d', /field name with a NUL/);
    });

    it('in string literals of the query', async () => {
      await refusedGraphQL(
        () => gql(app, tenant.token, `mutation { createCandidate(input: { name: "Ada\\u0000", email: "ada@example.com", consent: true }) { id } }`),
        'input.name',
        /must not contain NUL characters/,
      );
      await refusedGraphQL(
        () => gql(app, tenant.token, `mutation { updatePolicy(document: { holidays: ["2026-12-25\\u0000"] }) { version } }`),
        'document.holidays',
        /NUL/,
      );
    });

    it('in REST bodies, single and bulk', async () => {
      const post = (url: string, payload: unknown) =>
        app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
      const before = await rowCounts();
      const single = await post('/v1/interviews', interviewInput(candidateId, { companyName: 'North\u0000wind' }));
      expect(single.statusCode).toBe(400);
      expect(single.json()).toEqual({ error: 'BAD_USER_INPUT', message: 'companyName must not contain NUL characters (U+0000)', field: 'companyName' });
      // One bad item refuses the whole bulk request before any item is stored.
      const bulk = await post('/v1/interviews', [interviewInput(candidateId), interviewInput(candidateId, { interviewers: [{ name: 'Grace\u0000', email: 'grace@northwind.example' }] })]);
      expect(bulk.statusCode).toBe(400);
      expect(bulk.json().field).toBe('1.interviewers.0.name');
      const reply = await post('/v1/replies', { interviewId: 'x\u0000', fromEmail: 'grace@northwind.example' });
      expect(reply.statusCode).toBe(400);
      expect(reply.json().field).toBe('interviewId');
      expect(await rowCounts()).toBe(before);
    });

    it.each([
      ['candidate', `query ($v: ID!) { candidate(id: $v) { id } }`],
      ['interview', `query ($v: ID!) { interview(id: $v) { id } }`],
      ['auditEvents', `query ($v: ID!) { auditEvents(entityId: $v) { edges { cursor } } }`],
      ['candidates after', `query ($v: String) { candidates(after: $v) { edges { cursor } } }`],
      ['approveMessage', `mutation ($v: String) { approveMessage(id: "01a20000-0000-7000-8000-000000000000", subject: $v) { id } }`],
      ['cancelFollowUpPlan', `mutation ($v: String) { cancelFollowUpPlan(id: "01a20000-0000-7000-8000-000000000000", reason: $v) { id } }`],
      ['suppressAddress', `mutation ($v: String!) { suppressAddress(address: $v) { address } }`],
      ['registerWebhookEndpoint', `mutation ($v: String!) { registerWebhookEndpoint(url: $v) { secret } }`],
    ])('in an id or free text of %s, sent as a variable or written inline', async (_name, query) => {
      await refusedGraphQL(() => gql(app, tenant.token, query, { v: 'https://x.example/a\u0000' }), 'variables.v', /NUL/);
      const inline = query.replace(/\(\$v: [A-Za-z!]+\) /, '').replace('$v', '"https://x.example/a\\u0000"');
      await refusedGraphQL(() => gql(app, tenant.token, inline), /^(id|entityId|after|subject|reason|address|url)$/, /NUL/);
    });

    it('in query strings, path-like parameters and headers', async () => {
      const query = await app.inject({ url: '/graphql?query=%7B%20policy%20%7B%20version%20%7D%20%7D%00', headers: { authorization: `Bearer ${tenant.token}` } });
      expect(query.statusCode).toBe(400);
      expect(query.json().errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'query.query' });
      // Escaped inside the JSON of a GET request's variables.
      const variables = encodeURIComponent(JSON.stringify({ after: 'x\u0000' }));
      const getQuery = encodeURIComponent('query ($after: String) { candidates(after: $after) { edges { cursor } } }');
      const get = await app.inject({ url: `/graphql?query=${getQuery}&variables=${variables}`, headers: { authorization: `Bearer ${tenant.token}` } });
      expect(get.statusCode).toBe(400);
      expect(get.json().errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'variables.after' });
      const rest = await app.inject({ method: 'POST', url: '/v1/outcomes?note=a%00b', headers: { authorization: `Bearer ${tenant.token}` }, payload: {} });
      expect(rest.statusCode).toBe(400);
      expect(rest.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'query.note' });
      const header = await app.inject({ method: 'POST', url: '/v1/outcomes', headers: { authorization: `Bearer ${tenant.token}`, 'idempotency-key': 'a\u0000b' }, payload: {} });
      expect(header.statusCode).toBe(400);
      expect(header.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'headers.idempotency-key' });
    });
  });

  describe('JSON nested deeper than 64 levels is refused', () => {
    it('in REST bodies', async () => {
      const before = await rowCounts();
      for (const levels of [65, 100_000]) {
        // The body object is level 1, so topics holds `levels - 1` arrays.
        const body = JSON.stringify(interviewInput(candidateId, { topics: 'TOPICS' })).replace('"TOPICS"', nestedArraysJson(levels - 1));
        const response = await app.inject({
          method: 'POST',
          url: '/v1/interviews',
          headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
          payload: body,
        });
        expect(response.statusCode).toBe(400);
        expect(response.json()).toMatchObject({ error: 'BAD_USER_INPUT', message: expect.stringMatching(/is nested more than 64 levels deep/) });
        expect(response.json().field).toMatch(/^topics\.0\.0\.0\.0\.0…$/);
      }
      // 64 levels is not refused for its depth (the schema refuses it for what it is).
      const deepest = await app.inject({
        method: 'POST',
        url: '/v1/interviews',
        headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(interviewInput(candidateId, { topics: nestedArrays(63) })),
      });
      expect(deepest.statusCode).toBe(400);
      expect(deepest.json().message).not.toMatch(/nested/);
      expect(await rowCounts()).toBe(before);
    });

    it('in GraphQL variables', async () => {
      const query = `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`;
      await refusedGraphQL(() => gql(app, tenant.token, query, { d: { holidays: nestedArrays(100) } }), 'variables.d.holidays.0.0.0…', /is nested more than 64 levels deep/);
      // Deeper than JSON.stringify itself could write.
      const before = await rowCounts();
      const response = await app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
        payload: `{"query":${JSON.stringify(query)},"variables":{"d":${nestedArraysJson(100_000)}}}`,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'variables.d.0.0.0.0…' });
      expect(await rowCounts()).toBe(before);
    });
  });
});

describe('in production', () => {
  let database: TestDatabase;
  let production: FastifyInstance;
  let development: FastifyInstance;
  let tenant: TestTenant;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    production = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false, production: true });
    development = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
  });
  afterAll(async () => {
    await production?.close();
    await development?.close();
    await database?.close();
  });

  it('GET /graphql is turned off', async () => {
    const url = `/graphql?query=${encodeURIComponent('{ policy { version } }')}`;
    const refused = await production.inject({ url, headers: { authorization: `Bearer ${tenant.token}` } });
    expect(refused.statusCode).toBe(405);
    expect(refused.headers.allow).toBe('POST');
    expect(refused.json().errors[0]).toMatchObject({ message: expect.stringMatching(/GET \/graphql is turned off in production/), extensions: { code: 'BAD_USER_INPUT' } });
    // Without a token too: the method is refused before anything else.
    expect((await production.inject({ url })).statusCode).toBe(405);
    expect((await development.inject({ url, headers: { authorization: `Bearer ${tenant.token}` } })).json()).toEqual({ data: { policy: { version: 1 } } });
    expect((await gql(production, tenant.token, '{ policy { version } }')).data).toEqual({ policy: { version: 1 } });
  });

  it('error messages carry no "Did you mean" suggestions', async () => {
    const typos = [
      ['{ candidatez { edges { cursor } } }', /Cannot query field "candidatez" on type "Query"\.$/],
      ['{ candidates(frist: 2) { edges { cursor } } }', /Unknown argument "frist" on field "Query\.candidates"\.$/],
      ['mutation { recordOutcome(interviewId: "x", outcome: HIRD) { id } }', /Value "HIRD" does not exist in "Outcome" enum\.$/],
    ] as const;
    for (const [query, message] of typos) {
      const hidden = await gql(production, tenant.token, query);
      expect(hidden.status).toBe(400);
      expect(hidden.errors?.[0]?.message).toMatch(message);
      expect(JSON.stringify(hidden.errors)).not.toMatch(/Did you mean/);
      // Development keeps them: they help while writing a client.
      expect(JSON.stringify((await gql(development, tenant.token, query)).errors)).toMatch(/Did you mean/);
    }
    // Nor do errors in variables, which graphql-js words outside validation.
    const mutation = `mutation ($input: CreateCandidateInput!) { createCandidate(input: $input) { id } }`;
    const variables = { input: { nmae: 'Ada', email: 'ada@example.com', consent: true } };
    const hidden = await gql(production, tenant.token, mutation, variables);
    expect(hidden.errors?.map((error) => error.message)).toContainEqual(expect.stringMatching(/Field "nmae" is not defined by type "CreateCandidateInput"\.$/));
    expect(JSON.stringify(hidden.errors)).not.toMatch(/Did you mean/);
    const shown = await gql(development, tenant.token, mutation, variables);
    expect(shown.errors?.map((error) => error.message)).toContainEqual(expect.stringMatching(/Did you mean "name"\?$/));
  });
});

describe('rate limits per caller and per failing address', () => {
  let database: TestDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    app = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false, rateLimitPerMinute: 5, rateLimitPerCallerPerMinute: 2, rateLimitUnauthenticatedPerMinute: 3 });
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('limits each caller of a tenant on its own, within the tenant’s budget', async () => {
    const tenant = await createTestTenant(database.db);
    const [first, second, third] = ['ana@partner', 'ben@partner', 'cy@partner'].map((sub) => tokenFor(tenant.id, { sub }));
    const policy = (token: string) => gql(app, token, '{ policy { version } }');
    expect((await policy(first!)).status).toBe(200);
    expect((await policy(first!)).status).toBe(200);
    const limited = await policy(first!);
    expect(limited.status).toBe(429);
    expect(limited.errors?.[0]).toMatchObject({ message: expect.stringMatching(/2 requests per minute for this caller/), extensions: { code: 'RATE_LIMITED' } });
    // Another caller of the same tenant still gets through, until the tenant's budget of 5 is spent.
    expect((await policy(second!)).status).toBe(200);
    expect((await policy(second!)).status).toBe(200);
    const tenantSpent = await policy(third!);
    expect(tenantSpent.status).toBe(429);
    expect(tenantSpent.errors?.[0]?.message).toMatch(/5 requests per minute for this tenant/);
  });

  it('refuses an address whose requests keep failing authentication, before authenticating', async () => {
    const tenant = await createTestTenant(database.db);
    // Tamper with the signature's first character: its last one carries padding bits, and a change
    // there can decode to the very same signature.
    const [header, payload, signature] = tokenFor(tenant.id).split('.');
    const forged = [header, payload, (signature!.startsWith('A') ? 'B' : 'A') + signature!.slice(1)].join('.');
    const attempts = [
      () => gql(app, null, '{ policy { version } }'),
      () => gql(app, forged, '{ policy { version } }'),
      () => app.inject({ method: 'POST', url: '/v1/outcomes', headers: { authorization: 'Bearer nonsense' }, payload: {} }).then((response) => ({ status: response.statusCode })),
    ];
    for (const attempt of attempts) expect((await attempt()).status).toBe(401);
    const rest = await app.inject({ method: 'POST', url: '/v1/outcomes', headers: { authorization: 'Bearer nonsense' }, payload: {} });
    expect(rest.statusCode).toBe(429);
    expect(rest.json()).toEqual({ error: 'RATE_LIMITED', message: expect.stringMatching(/3 requests per minute for requests from this address that fail authentication/) });
    expect(Number(rest.headers['retry-after'])).toBeGreaterThan(0);
    const graphQL = await gql(app, forged, '{ policy { version } }');
    expect(graphQL.status).toBe(429);
    expect(graphQL.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
    // The whole address waits out the minute; another address is not affected.
    expect((await gql(app, tenant.token, '{ policy { version } }')).status).toBe(429);
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/graphql',
      remoteAddress: '203.0.113.7',
      headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
      payload: { query: '{ policy { version } }' },
    });
    expect(elsewhere.statusCode).toBe(200);
    // Health checks are never limited.
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });
});
