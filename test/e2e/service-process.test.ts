import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { runCli, type ServiceProcess, serviceEnv, spawnService, startService } from '../support/processes.js';

async function graphql(url: string, token: string, query: string, variables?: object) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('the service as a process, embedded defaults', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'afterview-e2e-'));
  });
  afterAll(async () => {
    await service?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the CLI creates a tenant and mints tokens before the service starts', () => {
    const env = serviceEnv({ DATA_DIR: dataDir });
    const created = runCli(['tenant', 'create', 'acme-jobs'], env);
    expect(created.status, created.stderr).toBe(0);
    const { tenantId, token } = JSON.parse(created.stdout);
    expect(tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(token.split('.')).toHaveLength(3);

    const readOnly = runCli(['token', 'acme-jobs', '--scope', 'followups:read'], env);
    expect(JSON.parse(readOnly.stdout).tenantId).toBe(tenantId);
    const payload = JSON.parse(Buffer.from(JSON.parse(readOnly.stdout).token.split('.')[1], 'base64url').toString());
    expect(payload).toMatchObject({ tenant: tenantId, scope: 'followups:read' });

    const duplicate = runCli(['tenant', 'create', 'acme-jobs'], env);
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr).toContain('already exists');
    const unknown = runCli(['token', 'nobody'], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('not found');
    fs.writeFileSync(path.join(dataDir, 'tokens.json'), JSON.stringify({ tenantId, token }));
  }, 120_000);

  it('starts, migrates, serves a CLI token, and says where it listens', async () => {
    service = await startService(serviceEnv({ DATA_DIR: dataDir, WORKER_CRON: '*/2 * * * * *' }));
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    const { token } = JSON.parse(fs.readFileSync(path.join(dataDir, 'tokens.json'), 'utf8'));
    const result = await graphql(service.url, token, `mutation { createCandidate(input: { name: "Ada Lovelace", email: "ada@example.com", consent: true }) { id } }`);
    expect(result.status).toBe(200);
    expect(result.body.data.createCandidate.id).toBeTruthy();
    expect(service.output()).toMatch(/Development token for tenant dev: \S+\.\S+\.\S+/);
    expect(service.output()).toContain('worker scheduled');
  }, 60_000);

  it('a second process on the same data directory exits at once with a clear message', async () => {
    const second = spawnService(serviceEnv({ DATA_DIR: dataDir }));
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('is in use by another Afterview process');
    // The first one is unharmed.
    expect((await fetch(`${service!.url}/readyz`)).status).toBe(200);
  }, 60_000);

  it('a data directory left locked by a killed process is taken over at once', async () => {
    expect(await service!.stop()).toBe(0);
    const crashed = await startService(serviceEnv({ DATA_DIR: dataDir }));
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    service = await startService(serviceEnv({ DATA_DIR: dataDir }));
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  }, 60_000);

  it('SIGTERM stops it cleanly with exit code 0, and the data survives a restart', async () => {
    const started = Date.now();
    expect(await service!.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    service = await startService(serviceEnv({ DATA_DIR: dataDir }));
    const { token } = JSON.parse(fs.readFileSync(path.join(dataDir, 'tokens.json'), 'utf8'));
    const result = await graphql(service.url, token, `{ candidates { edges { node { name } } } }`);
    expect(result.body.data.candidates.edges).toEqual([{ node: { name: 'Ada Lovelace' } }]);
  }, 60_000);
});

// Registered only when TEST_DATABASE_URL gives a PostgreSQL server (always in CI).
describe.each(testDatabaseKinds().filter((kind) => kind === 'postgres'))('the service as a process on %s', (kind) => {
  let database: TestDatabase;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await service?.stop();
    await database?.close();
  });

  it('uses DATABASE_URL, and api and worker run as separate processes', async () => {
    const env = serviceEnv({ DATABASE_URL: database.url, JWT_SECRET: 'a-production-like-secret-for-tests' });
    const created = runCli(['tenant', 'create', 'pg-tenant'], env);
    expect(created.status, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout);
    service = await startService(env, ['--mode=api']);
    expect(service.output()).toContain('"database":"postgres"');
    expect(service.output()).toContain('npm run cli -- tenant create');
    expect(service.output()).not.toContain('worker scheduled');
    const result = await graphql(service.url, token, `{ candidates { edges { cursor } } }`);
    expect(result.status).toBe(200);
    const worker = await startService(env, ['--mode=worker']);
    expect(worker.output()).toContain('worker scheduled');
    expect(await worker.stop()).toBe(0);
  }, 60_000);

  it('the CLI mints candidate tokens, and disabling a tenant refuses its tokens while the API runs', async () => {
    const env = serviceEnv({ DATABASE_URL: database.url, JWT_SECRET: 'a-production-like-secret-for-tests' });
    const { token } = JSON.parse(runCli(['tenant', 'create', 'pg-switch'], env).stdout);
    await service?.stop();
    service = await startService(env, ['--mode=api']);
    const ids: string[] = [];
    for (const email of ['ada@example.com', 'bob@example.com']) {
      const created = await graphql(service!.url, token, `mutation ($email: EmailAddress!) { createCandidate(input: { name: "Someone", email: $email, consent: true }) { id } }`, { email });
      ids.push(created.body.data.createCandidate.id);
    }
    const minted = runCli(['token', 'pg-switch', '--candidate', ids[0]!, '--expires-in', '1h'], env);
    expect(minted.status, minted.stderr).toBe(0);
    const { token: candidateToken, expiresAt } = JSON.parse(minted.stdout);
    expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);
    const seen = await graphql(service!.url, candidateToken, `{ candidates { edges { node { id } } } }`);
    expect(seen.body.data.candidates.edges).toEqual([{ node: { id: ids[0] } }]);
    expect(runCli(['token', 'pg-switch', '--candidate', ids[0]!, '--expires-in', '25h'], env).stderr).toContain('24 hours');

    /** Asks until the answer is `expected`, for at most the 5 s API.md allows. */
    const answersWithin5s = async (expected: number) => {
      const deadline = Date.now() + 5_000;
      let status = 0;
      while (Date.now() < deadline && (status = (await graphql(service!.url, token, `{ candidates { edges { cursor } } }`)).status) !== expected) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return status;
    };
    expect(await answersWithin5s(200)).toBe(200);
    expect(JSON.parse(runCli(['tenant', 'disable', 'pg-switch'], env).stdout)).toMatchObject({ disabled: true });
    expect(await answersWithin5s(401)).toBe(401);
    expect(JSON.parse(runCli(['tenant', 'enable', 'pg-switch'], env).stdout)).toMatchObject({ disabled: false });
    expect(await answersWithin5s(200)).toBe(200);
  }, 120_000);
});
