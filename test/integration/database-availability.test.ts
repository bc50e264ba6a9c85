import net from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { isDatabaseUnavailable } from '../../src/db/availability.js';
import { openDatabase } from '../../src/db/database.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, interviewInput, SCHEDULE_INTERVIEW, TEST_JWT_SECRET, type TestTenant } from '../support/app.js';

// What a request meets when the database goes away under it: a clear 503 / UNAVAILABLE, never a
// 500 or a hang, and nothing of the cut transaction left behind.

async function countRows(database: TestDatabase, table: 'interviews' | 'follow_up_plans' | 'follow_up_steps' | 'audit_events'): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(database.db);
  return rows[0]!.n;
}

describe.each(testDatabaseKinds().filter((kind) => kind === 'postgres'))('a transaction cut in the middle on %s', (kind) => {
  let database: TestDatabase;
  let tenant: TestTenant;
  let candidateId: string;
  let app: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db);
    tenant = await createTestTenant(database.db);
    candidateId = await createCandidateVia(app, tenant.token);
    // The backend that writes an interview's first step terminates itself, as
    // pg_terminate_backend or a failover would, after the interview and plan rows are written.
    await sql`
      CREATE FUNCTION cut_the_connection() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$`.execute(database.db);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const cutStepInserts = () => sql`CREATE TRIGGER cut AFTER INSERT ON follow_up_steps FOR EACH ROW EXECUTE FUNCTION cut_the_connection()`.execute(database.db);
  const stopCutting = () => sql`DROP TRIGGER cut ON follow_up_steps`.execute(database.db);

  it('GraphQL answers 503 with UNAVAILABLE and nothing of the interview is stored; the next request succeeds', async () => {
    const before = await Promise.all([countRows(database, 'interviews'), countRows(database, 'follow_up_plans'), countRows(database, 'audit_events')]);
    await cutStepInserts();
    try {
      const cut = await gql(app, tenant.token, SCHEDULE_INTERVIEW, { input: interviewInput(candidateId) });
      expect(cut.status).toBe(503);
      expect(cut.errors?.map((error) => error.extensions.code)).toEqual(['UNAVAILABLE']);
      expect(cut.errors?.[0]?.message).toMatch(/nothing was changed/);
    } finally {
      await stopCutting();
    }
    const after = await Promise.all([countRows(database, 'interviews'), countRows(database, 'follow_up_plans'), countRows(database, 'audit_events')]);
    expect(after).toEqual(before);
    const retried = await gql(app, tenant.token, SCHEDULE_INTERVIEW, { input: interviewInput(candidateId) });
    expect(retried.status).toBe(200);
    expect(retried.data.scheduleInterview.id).toBeTruthy();
  });

  it('REST answers 503 with Retry-After, and a bulk request reports each cut item as 503', async () => {
    const interviewsBefore = await countRows(database, 'interviews');
    await cutStepInserts();
    try {
      const single = await app.inject({
        method: 'POST',
        url: '/v1/interviews',
        headers: { authorization: `Bearer ${tenant.token}` },
        payload: interviewInput(candidateId),
      });
      expect(single.statusCode).toBe(503);
      expect(single.headers['retry-after']).toBe('5');
      expect(single.json()).toMatchObject({ error: 'UNAVAILABLE' });
      const bulk = await app.inject({
        method: 'POST',
        url: '/v1/interviews',
        headers: { authorization: `Bearer ${tenant.token}` },
        payload: [interviewInput(candidateId), interviewInput(candidateId)],
      });
      expect(bulk.statusCode).toBe(207);
      expect(bulk.json().results.map((result: { status: number; error?: { error: string } }) => [result.status, result.error?.error])).toEqual([
        [503, 'UNAVAILABLE'],
        [503, 'UNAVAILABLE'],
      ]);
    } finally {
      await stopCutting();
    }
    expect(await countRows(database, 'interviews')).toBe(interviewsBefore);
  });
});

/** A server that accepts connections and never says a word: a database host that hangs. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a database that does not answer', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let handle: Awaited<ReturnType<typeof openDatabase>>;
  let app: Awaited<ReturnType<typeof buildApp>>;

  beforeAll(async () => {
    silent = await silentServer();
    handle = await openDatabase({ url: `postgres://afterview@127.0.0.1:${silent.port}/afterview`, timeouts: { connectMs: 3_000 } });
    app = await buildApp({ db: handle.db, jwtSecret: TEST_JWT_SECRET, logger: false });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await handle?.close();
    await silent?.close();
  });

  it('/readyz gives up on it before its connect timeout and answers 503', async () => {
    const response = await app.inject('/readyz');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
  });

  it('/healthz still answers: the process is up', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });

  it('an authenticated request answers 503 UNAVAILABLE once the connect timeout runs out, not a 401 or a 500', async () => {
    const { tokenFor } = await import('../support/app.js');
    const token = tokenFor('0190f1d2-0000-7000-8000-000000000001');
    const response = await gql(app, token, '{ candidates(first: 1) { edges { cursor } } }');
    expect(response.status).toBe(503);
    expect(response.errors?.[0]?.extensions.code).toBe('UNAVAILABLE');
  });
});

describe('which errors mean the database is away', () => {
  it.each([
    ['pg_terminate_backend', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['the server is starting', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['a connection exception', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['statement_timeout', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })],
    ['refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a socket closed under a query', new Error('Connection terminated unexpectedly')],
    ['the pool could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['wrapped by a caller', Object.assign(new Error('outer'), { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })],
  ])('%s is unavailability', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', Object.assign(new Error('duplicate key value'), { code: '23505' })],
    ['a syntax error', Object.assign(new Error('syntax error at or near'), { code: '42601' })],
    ['a check violation', Object.assign(new Error('violates check constraint'), { code: '23514' })],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['not an error at all', 'oops'],
  ])('%s is not', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
