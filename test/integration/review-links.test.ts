import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createCandidateVia, createTestTenant, gql, scheduleInterviewVia, TEST_JWT_SECRET, type TestTenant, tokenFor } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// Links to the candidate's page: made with tokens:issue, stored as a hash, exchanged (by the
// secret in a POST body, never a bearer token) for a candidate session of at most an hour.

const LINK = `mutation ($id: ID!, $ttl: Int) { createReviewLink(candidateId: $id, ttlSeconds: $ttl) { id url expiresAt } }`;

describe.each(testDatabaseKinds())('review links on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  let ada: string;
  let bob: string;
  let now = new Date();
  const logLines: string[] = [];

  const secretOf = (url: string) => new URL(url).hash.slice(1);
  const exchange = (secret: unknown, target = app) => target.inject({ method: 'POST', url: '/review/session', payload: { secret } });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    const logger = pino({ level: 'trace' }, new Writable({ write: (chunk, _encoding, done) => { logLines.push(String(chunk)); done(); } }));
    app = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger, clock: () => now, publicUrl: 'https://careers.example.com/afterview/' });
    await app.ready();
    tenant = await createTestTenant(database.db);
    ada = await createCandidateVia(app, tenant.token, { email: 'ada@example.com' });
    bob = await createCandidateVia(app, tenant.token, { email: 'bob@example.com', name: 'Bob Marley' });
    await scheduleInterviewVia(app, tenant.token, bob);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('makes a link under PUBLIC_URL whose secret rides in the fragment, and keeps only its hash', async () => {
    const made = await gql(app, tenant.token, LINK, { id: ada });
    expect(made.errors).toBeUndefined();
    const link = made.data.createReviewLink;
    expect(link.url).toMatch(/^https:\/\/careers\.example\.com\/afterview\/review#[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(link.expiresAt) - now.getTime()).toBe(604_800_000);
    const stored = await database.db.selectFrom('review_links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow();
    expect(stored.secret_sha256).toMatch(/^[0-9a-f]{64}$/);
    const everything = JSON.stringify(await database.db.selectFrom('review_links').selectAll().execute()) + JSON.stringify(await database.db.selectFrom('audit_events').selectAll().execute());
    expect(everything).not.toContain(secretOf(link.url));
  });

  it('exchanges the secret for a candidate session of at most an hour that sees only that candidate', async () => {
    const { url } = (await gql(app, tenant.token, LINK, { id: ada })).data.createReviewLink;
    const response = await exchange(secretOf(url));
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const session = response.json();
    expect(session.candidateId).toBe(ada);
    const claims = JSON.parse(Buffer.from(session.token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ tenant: tenant.id, candidate: ada, scope: 'followups:read followups:write' });
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(3_600);
    const own = await gql(app, session.token, `query ($id: ID!) { candidate(id: $id) { name } }`, { id: ada });
    expect(own.data.candidate.name).toBe('Ada Lovelace');
    const other = await gql(app, session.token, `query ($id: ID!) { candidate(id: $id) { name } }`, { id: bob });
    expect(other.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    const list = await gql(app, session.token, `{ interviews { edges { node { id } } } }`);
    expect(list.data.interviews.edges).toEqual([]);
    // The secret went in a body: no log line carries it.
    expect(logLines.join('\n')).not.toContain(secretOf(url));
  });

  it('a session never outlives its link', async () => {
    const { url } = (await gql(app, tenant.token, LINK, { id: ada, ttl: 120 })).data.createReviewLink;
    const token = (await exchange(secretOf(url))).json().token as string;
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(120);
  });

  it('an expired, a revoked or an unknown link opens nothing and says which', async () => {
    const expiring = (await gql(app, tenant.token, LINK, { id: ada, ttl: 60 })).data.createReviewLink;
    const revoking = (await gql(app, tenant.token, LINK, { id: ada })).data.createReviewLink;
    const revoked = await gql(app, tenant.token, `mutation ($id: ID!) { revokeReviewLink(id: $id) { id revokedAt } }`, { id: revoking.id });
    expect(revoked.data.revokeReviewLink.id).toBe(revoking.id);
    expect((await exchange(secretOf(revoking.url))).json()).toMatchObject({ error: 'LINK_REVOKED' });
    expect((await exchange(secretOf(revoking.url))).statusCode).toBe(410);
    now = new Date(now.getTime() + 61_000);
    const expired = await exchange(secretOf(expiring.url));
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({ error: 'LINK_EXPIRED', message: 'this link has expired' });
    const unknown = await exchange('x'.repeat(43));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toBe('LINK_UNKNOWN');
    expect((await exchange('z'.repeat(201))).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/review/session', payload: {} })).statusCode).toBe(400);
  });

  it('needs tokens:issue, the tenant’s own candidate and a sane lifetime', async () => {
    const noScope = await gql(app, tokenFor(tenant.id, { scopes: ['followups:read', 'followups:write', 'policy:admin'] }), LINK, { id: ada });
    expect(noScope.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    const other = await createTestTenant(database.db);
    expect((await gql(app, other.token, LINK, { id: ada })).errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    expect((await gql(app, other.token, `mutation ($id: ID!) { revokeReviewLink(id: $id) { id } }`, { id: ada })).errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    for (const ttl of [0, 59, 90 * 86_400 + 1]) {
      expect((await gql(app, tenant.token, LINK, { id: ada, ttl })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ttlSeconds' });
    }
  });

  it('serves the page and its assets from our own files, under a strict CSP', async () => {
    const page = await app.inject('/review');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('/review/assets/page.js');
    expect((await app.inject('/review/assets/page.js')).headers['content-type']).toMatch(/javascript/);
    expect((await app.inject('/review/assets/page.css')).headers['content-type']).toMatch(/css/);
    expect((await app.inject('/review/assets/..%2Fpage.ts')).statusCode).toBe(404);
    expect((await app.inject('/review/assets/constructor')).statusCode).toBe(404);
  });

  it('limits exchanges per address', async () => {
    const limited = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 31; i += 1) statuses.push((await exchange('y'.repeat(43), limited)).statusCode);
      expect(statuses.slice(0, 30).every((status) => status === 404)).toBe(true);
      expect(statuses[30]).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
