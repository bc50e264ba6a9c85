import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { dkimVerify } from 'mailauth';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { dispatchDueMessages } from '../../src/services/message-dispatch.js';
import { createDkimKeys } from '../../src/services/sending-domains.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant, tokenFor } from '../support/app.js';
import { cancelPendingWork } from '../support/due-messages.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

// Sending domains (API.md "Replies, auto-replies and bounces"): a tenant's DKIM key signs the mail
// from its domain. The signature is checked the way a receiving server checks it, with mailauth,
// against the DNS record the API told the tenant to publish.

const CONFIGURE = /* GraphQL */ `
  mutation ($domain: String!, $selector: String!, $key: String!) {
    configureSendingDomain(domain: $domain, selector: $selector, privateKeyPem: $key) {
      domain selector algorithm dnsRecordName dnsRecordValue coversSendingAddress createdAt updatedAt
    }
  }
`;

function rsaKey(bits = 2048): string {
  return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Verifies as a receiver would, with DNS answered from the records the API handed out. */
async function verify(raw: Buffer, records: Record<string, string>) {
  const result = await dkimVerify(raw, {
    resolver: async (name: string, type: string) => {
      if (type !== 'TXT' || !records[name]) throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
      return [[records[name]]];
    },
  });
  return result.results.map((each) => ({ result: each.status.result, domain: each.signingDomain, selector: each.selector }));
}

describe.each(testDatabaseKinds())('sending domains on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let sink: SmtpSink;
  let mailer: Mailer;
  let now: Date;
  const spell = createEnglishSpellChecker();
  const log = pino({ level: 'silent' });
  const key = rsaKey();

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db, { clock: () => now });
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
  });
  afterAll(async () => {
    await mailer?.close();
    await sink?.close();
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    now = new Date('2026-03-03T16:00:00Z');
    sink.reset();
    await cancelPendingWork(database.db);
  });

  /** A tenant sending from <slug>@afterview.test at any hour, with one interview's thank-yous due. */
  async function tenantWithDueThankYous(): Promise<TestTenant> {
    const tenant = await createTestTenant(database.db);
    const policy = await gql(app, tenant.token, `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`, { d: { businessHours: 'always', thankYou: { delayMinutes: 0 } } });
    expect(policy.errors).toBeUndefined();
    await scheduleInterviewVia(app, tenant.token, await createCandidateVia(app, tenant.token));
    return tenant;
  }

  async function sendDue(dkimKeys = createDkimKeys(database.db)) {
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    return dispatchDueMessages(database.db, { mailer, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 2, dkimKeys });
  }

  it('signs the mail from a configured domain, and the signature verifies against the DNS record it names', async () => {
    const tenant = await tenantWithDueThankYous();
    const configured = await gql(app, tenant.token, CONFIGURE, { domain: 'AfterView.Test.', selector: 'av2026', key });
    expect(configured.errors).toBeUndefined();
    const domain = configured.data.configureSendingDomain;
    expect(domain).toMatchObject({ domain: 'afterview.test', selector: 'av2026', algorithm: 'rsa-sha256', dnsRecordName: 'av2026._domainkey.afterview.test', coversSendingAddress: true });
    expect(domain.dnsRecordValue).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);

    expect((await sendDue()).sent).toBe(2);
    expect(sink.messages).toHaveLength(2);
    for (const message of sink.messages) {
      expect(message.raw.toString('latin1')).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=afterview.test;/);
      expect(await verify(message.raw, { [domain.dnsRecordName]: domain.dnsRecordValue })).toEqual([{ result: 'pass', domain: 'afterview.test', selector: 'av2026' }]);
    }
    // A message changed on the way no longer verifies: the signature covers what matters.
    const tampered = Buffer.from(sink.messages[0]!.raw.toString('latin1').replace(/^Subject: .*$/m, 'Subject: Something else'), 'latin1');
    expect((await verify(tampered, { [domain.dnsRecordName]: domain.dnsRecordValue }))[0]!.result).toBe('fail');
  });

  it('keeps the private key sealed at rest and never shows it again', async () => {
    const tenant = await createTestTenant(database.db);
    expect((await gql(app, tenant.token, CONFIGURE, { domain: 'mail.acme.example', selector: 's1', key })).errors).toBeUndefined();
    const stored = await database.db.selectFrom('sending_domains').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow();
    expect(stored.private_key_sealed).toMatch(/^sealed:v1:/);
    expect(stored.private_key_sealed).not.toContain('PRIVATE KEY');
    const listed = await gql(app, tenant.token, `{ sendingDomains { domain selector dnsRecordName coversSendingAddress } }`);
    expect(listed.data.sendingDomains).toEqual([{ domain: 'mail.acme.example', selector: 's1', dnsRecordName: 's1._domainkey.mail.acme.example', coversSendingAddress: false }]);
    expect(JSON.stringify(listed)).not.toContain('PRIVATE');
    const audit = await database.db.selectFrom('audit_events').select(['action', 'data']).where('tenant_id', '=', tenant.id).where('action', 'like', 'sending_domain.%').execute();
    expect(audit).toEqual([{ action: 'sending_domain.configured', data: { domain: 'mail.acme.example', selector: 's1', bits: 2048 } }]);
  });

  it("signs only the configuring tenant's mail: another tenant sending from the same domain goes unsigned", async () => {
    const signer = await tenantWithDueThankYous();
    const other = await tenantWithDueThankYous();
    expect((await gql(app, signer.token, CONFIGURE, { domain: 'afterview.test', selector: 'av2026', key })).errors).toBeUndefined();
    await sendDue();
    const bySender = (slug: string) => sink.messages.filter((message) => message.envelope.mailFrom === `${slug}@afterview.test`);
    expect(bySender(signer.slug)).toHaveLength(2);
    expect(bySender(other.slug)).toHaveLength(2);
    for (const message of bySender(signer.slug)) expect(message.headers.has('dkim-signature')).toBe(true);
    for (const message of bySender(other.slug)) expect(message.headers.has('dkim-signature')).toBe(false);
    // Nor can the other tenant see or remove the signer's domain: it looks like a missing one.
    expect((await gql(app, other.token, `{ sendingDomains { domain } }`)).data.sendingDomains).toEqual([]);
    const removed = await gql(app, other.token, `mutation { removeSendingDomain(domain: "afterview.test") { domain } }`);
    expect(removed.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('rotates a key by configuring the domain again, and stops signing once the domain is removed', async () => {
    const tenant = await tenantWithDueThankYous();
    const first = await gql(app, tenant.token, CONFIGURE, { domain: 'afterview.test', selector: 'old', key });
    now = new Date('2026-03-03T16:00:05Z');
    const second = await gql(app, tenant.token, CONFIGURE, { domain: 'afterview.test', selector: 'new', key: rsaKey() });
    expect(second.data.configureSendingDomain).toMatchObject({ selector: 'new', createdAt: first.data.configureSendingDomain.createdAt, updatedAt: '2026-03-03T16:00:05.000Z' });
    expect(second.data.configureSendingDomain.dnsRecordValue).not.toBe(first.data.configureSendingDomain.dnsRecordValue);
    await sendDue();
    const records = { [second.data.configureSendingDomain.dnsRecordName]: second.data.configureSendingDomain.dnsRecordValue };
    expect((await verify(sink.messages[0]!.raw, records))[0]).toMatchObject({ result: 'pass', selector: 'new' });

    const removed = await gql(app, tenant.token, `mutation { removeSendingDomain(domain: "afterview.test") { domain selector } }`);
    expect(removed.data.removeSendingDomain).toEqual({ domain: 'afterview.test', selector: 'new' });
    sink.reset();
    await scheduleInterviewVia(app, tenant.token, await createCandidateVia(app, tenant.token));
    await sendDue();
    expect(sink.messages).toHaveLength(2);
    for (const message of sink.messages) expect(message.headers.has('dkim-signature')).toBe(false);
  });

  it('signs mail from a subdomain with the key of its parent domain', async () => {
    const keys = createDkimKeys(database.db);
    const tenant = await createTestTenant(database.db);
    expect((await gql(app, tenant.token, CONFIGURE, { domain: 'acme.example', selector: 'parent', key })).errors).toBeUndefined();
    expect(await keys.forSender(tenant.id, 'jobs@mail.acme.example')).toMatchObject({ domainName: 'acme.example', keySelector: 'parent' });
    expect(await keys.forSender(tenant.id, 'jobs@acme.example.org')).toBeUndefined();
    expect(await keys.forSender(tenant.id, 'jobs@notacme.example')).toBeUndefined();
  });

  it('refuses what cannot sign, naming each field and what is wrong with it', async () => {
    const tenant = await createTestTenant(database.db);
    const attempt = async (variables: { domain: string; selector: string; key: string }) => (await gql(app, tenant.token, CONFIGURE, variables)).errors?.[0];
    const cases: Array<[{ domain: string; selector: string; key: string }, string, RegExp]> = [
      [{ domain: 'localhost', selector: 's1', key }, 'domain', /at least two labels/],
      [{ domain: 'jobs@acme.example', selector: 's1', key }, 'domain', /not an address/],
      [{ domain: 'acme.example', selector: 'bad selector', key }, 'selector', /letters, digits/],
      [{ domain: 'acme.example', selector: 's1', key: 'not a key' }, 'privateKeyPem', /not a PEM private key/],
      [{ domain: 'acme.example', selector: 's1', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }, 'privateKeyPem', /public key/],
      [{ domain: 'acme.example', selector: 's1', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, 'privateKeyPem', /only RSA keys/],
      [{ domain: 'acme.example', selector: 's1', key: rsaKey(768) }, 'privateKeyPem', /768 bits: DKIM needs at least 1024/],
    ];
    for (const [variables, field, message] of cases) {
      const error = await attempt(variables);
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(error?.message).toMatch(message);
    }
    const both = await attempt({ domain: 'localhost', selector: 'bad selector', key: 'x' });
    expect(both?.message).toMatch(/domain .*; selector .*; privateKeyPem /);
    expect(await database.db.selectFrom('sending_domains').select('domain').where('tenant_id', '=', tenant.id).execute()).toEqual([]);
  });

  it('needs policy:admin to configure and followups:read to list', async () => {
    const tenant = await createTestTenant(database.db);
    const reader = tokenFor(tenant.id, { scopes: ['followups:read'] });
    expect((await gql(app, reader, CONFIGURE, { domain: 'acme.example', selector: 's1', key })).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect((await gql(app, reader, `{ sendingDomains { domain } }`)).data.sendingDomains).toEqual([]);
  });

  it('signs the .eml outbox copies too, so what a developer opens is what a relay would get', async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), 'afterview-dkim-'));
    const eml = createMailer({ outboxDir, log });
    try {
      const tenant = await tenantWithDueThankYous();
      const configured = (await gql(app, tenant.token, CONFIGURE, { domain: 'afterview.test', selector: 'av2026', key })).data.configureSendingDomain;
      await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
      const result = await dispatchDueMessages(database.db, { mailer: eml, clock: () => now, log, batchSize: 100, leaseMs: 60_000, concurrency: 2, dkimKeys: createDkimKeys(database.db) });
      expect(result.sent).toBe(2);
      const files = await readdir(outboxDir);
      expect(files).toHaveLength(2);
      for (const file of files) {
        expect(await verify(await readFile(join(outboxDir, file)), { [configured.dnsRecordName]: configured.dnsRecordValue })).toEqual([{ result: 'pass', domain: 'afterview.test', selector: 'av2026' }]);
      }
    } finally {
      await eml.close();
      await rm(outboxDir, { recursive: true, force: true });
    }
  });
});
