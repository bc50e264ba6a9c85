import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/services/tenants.js';
import { ServiceError } from '../../src/services/errors.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, interviewInput, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';
import { runCli, serviceEnv } from '../support/processes.js';

// What ends up in From, To and Reply-To: a tenant's sending address is one plain address, and
// the names around it (tenant, candidate, interviewer, company, a reply's sender) are stored
// without invisible direction-control and zero-width characters.

describe('sending addresses and display names', () => {
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

  const tenantCount = async () => (await database.db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

  it.each([
    ['two addresses', 'jobs@acme.example, victim@evil.example', /one plain address/],
    ['a display name', 'Acme Jobs <jobs@acme.example>', /one plain address/],
    ['a header injection', 'jobs@acme.example\r\nBcc: victim@evil.example', /without control characters/],
    ['not an address', 'jobs at acme', /one plain address/],
  ])('a tenant’s sending address with %s is refused, naming the field, and no tenant is stored', async (_what, sendingAddress, words) => {
    const before = await tenantCount();
    const refused = await createTenant(database.db, { slug: `refused-${before}`, sendingAddress, mailDomain: 'afterview.test' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sendingAddress', message: expect.stringMatching(words) });
    expect(await tenantCount()).toBe(before);
  });

  it('a default address that MAIL_DOMAIN would break is refused too; a good one is kept trimmed', async () => {
    await expect(createTenant(database.db, { slug: 'bad-domain', mailDomain: 'acme.example>, x@evil.example' })).rejects.toMatchObject({ field: 'mailDomain' });
    const kept = await createTenant(database.db, { slug: 'good-address', sendingAddress: ' jobs@acme.example ', mailDomain: 'afterview.test' });
    expect(kept.sendingAddress).toBe('jobs@acme.example');
  });

  it('a tenant’s name loses invisible characters, and one made only of them is refused', async () => {
    const named = await createTenant(database.db, { slug: 'acme-named', name: '\u202eAcme\u200b Jobs\u2069', mailDomain: 'afterview.test' });
    expect(named.name).toBe('Acme Jobs');
    await expect(createTenant(database.db, { slug: 'acme-blank', name: '\u200b\u202e', mailDomain: 'afterview.test' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'name',
    });
    await expect(createTenant(database.db, { slug: 'acme-lines', name: 'Acme\r\nBcc: x@evil.example', mailDomain: 'afterview.test' })).rejects.toMatchObject({ field: 'name' });
  });

  it('candidate, interviewer, company and reply sender names are stored without them', async () => {
    const candidate = await gql(app, tenant.token, `mutation ($input: CreateCandidateInput!) { createCandidate(input: $input) { id name } }`, {
      input: { name: '\u2067Ada\u2069 \u200dLovelace\ufeff', email: 'ada@example.com', consent: true },
    });
    expect(candidate.data.createCandidate.name).toBe('Ada Lovelace');
    const renamed = await gql(app, tenant.token, `mutation ($id: ID!) { updateCandidate(id: $id, input: { name: "Ada \\u202eKing" }) { name } }`, { id: candidate.data.createCandidate.id });
    expect(renamed.data.updateCandidate.name).toBe('Ada King');

    const interview = await app.inject({
      method: 'POST',
      url: '/v1/interviews',
      headers: { authorization: `Bearer ${tenant.token}` },
      payload: interviewInput(candidate.data.createCandidate.id, {
        companyName: 'North\u200bwind\u200e',
        interviewers: [{ name: 'Grace \u202eHopper', email: 'grace@northwind.example' }],
      }),
    });
    expect(interview.statusCode).toBe(201);
    expect(interview.json().company.name).toBe('Northwind');
    expect(interview.json().interviewers[0].name).toBe('Grace Hopper');

    const reply = await gql(app, tenant.token, `mutation ($input: RecordReplyInput!) { recordReply(input: $input) { id } }`, {
      input: { interviewId: interview.json().id, fromEmail: 'grace@northwind.example', fromName: '\u200fGrace' },
    });
    expect(reply.errors).toBeUndefined();
    const stored = await database.db.selectFrom('replies').select('from_name').where('id', '=', reply.data.recordReply.id).executeTakeFirstOrThrow();
    expect(stored.from_name).toBe('Grace');
  });

  it('a name made only of invisible characters is refused as empty, naming the field', async () => {
    const refused = await gql(app, tenant.token, `mutation ($input: CreateCandidateInput!) { createCandidate(input: $input) { id } }`, {
      input: { name: '\u200b\u202e\u2066', email: 'ada@example.com', consent: true },
    });
    expect(refused.errors?.[0]).toMatchObject({ message: 'input.name must not be empty', extensions: { code: 'BAD_USER_INPUT', field: 'input.name' } });
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await app.inject({
      method: 'POST',
      url: '/v1/interviews',
      headers: { authorization: `Bearer ${tenant.token}` },
      payload: interviewInput(candidateId, { interviewers: [{ name: '\u200d', email: 'grace@northwind.example' }] }),
    });
    expect(interview.statusCode).toBe(400);
    expect(interview.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'interviewers.0.name', message: 'interviewers.0.name must not be empty' });
  });

  it('the CLI refuses a bad --sending-address with a message naming it', () => {
    const result = runCli(['tenant', 'create', 'acme-cli', '--sending-address', 'Acme <jobs@acme.example>'], serviceEnv({ DATABASE_URL: 'memory://' }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('error: sendingAddress must be one plain address');
  }, 60_000);
});
