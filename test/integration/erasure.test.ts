import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.js';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { dispatchDueMessages } from '../../src/services/message-dispatch.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant, tokenFor } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

// eraseCandidate after a full follow-up (messages sent over SMTP, a reply, a suppression, webhook
// payloads, audit events old and new): afterwards no text column of any table holds the
// candidate's name, email or phone, nor their interviewers' names and addresses.

const ERIN = { name: 'Erin Eraseme', email: 'erin.eraseme@example.org', phone: '+14155550177' };
const INTERVIEWERS = [
  { name: 'Grace Quokka', email: 'grace.quokka@northwind.example', title: 'Engineering Manager', isPrimaryContact: true },
  { name: 'Alan Wombat', email: 'alan.wombat@northwind.example', phone: '+14155550199', title: 'Staff Engineer' },
];
// The debrief is the candidate's own words, and goes with them too.
const DEBRIEF = { highlights: 'the Quokkaledger rewrite I led', leftOut: 'my Wombatstream conference talk', resourceUrl: 'https://erin-eraseme.example.org/portfolio' };
const PERSONAL = [
  ERIN.name,
  ERIN.email,
  ERIN.phone,
  ...INTERVIEWERS.flatMap((each) => [each.name, each.email, each.phone].filter(Boolean) as string[]),
  ...Object.values(DEBRIEF),
];

/** Every (table, column, value) where a text or JSON column of any table holds one of the values. */
async function findMentions(db: Kysely<Database>, values: readonly string[]): Promise<string[]> {
  const columns = await sql<{ table_name: string; column_name: string }>`
    SELECT c.table_name, c.column_name
    FROM information_schema.columns AS c
    JOIN information_schema.tables AS t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
    ORDER BY 1, 2`.execute(db);
  expect(columns.rows.length).toBeGreaterThan(30);
  const found: string[] = [];
  for (const { table_name, column_name } of columns.rows) {
    for (const value of values) {
      const hit = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM ${sql.table(table_name)} WHERE strpos(lower(${sql.ref(column_name)}::text), lower(${value})) > 0`.execute(db);
      if (hit.rows[0]!.n > 0) found.push(`${table_name}.${column_name}: ${value}`);
    }
  }
  return found;
}

describe.each(testDatabaseKinds())('erasure on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let sink: SmtpSink;
  let mailer: Mailer;
  let tenant: TestTenant;
  let now = new Date('2026-03-03T16:00:00Z');
  let erin: string;
  let control: string;
  let interviewId: string;
  let laterInterviewId: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db, { clock: () => now });
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log: pino({ level: 'silent' }) });
    tenant = await createTestTenant(database.db);
    await gql(app, tenant.token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0 } }) { version } }`);
    await gql(app, tenant.token, `mutation { registerWebhookEndpoint(url: "https://hooks.partner.example/in") { secret } }`);

    erin = await createCandidateVia(app, tenant.token, ERIN);
    control = await createCandidateVia(app, tenant.token, { name: 'Carla Control', email: 'carla.control@example.org', phone: '+14155550155' });
    await gql(app, tenant.token, `mutation ($id: ID!) { updateCandidate(id: $id, input: { signature: "Erin Eraseme, data engineer" }) { id } }`, { id: erin });
    interviewId = (await scheduleInterviewVia(app, tenant.token, erin, { startsAt: '2026-03-03T14:00:00Z', endsAt: '2026-03-03T15:00:00Z', interviewers: INTERVIEWERS })).id;
    await scheduleInterviewVia(app, tenant.token, control, { startsAt: '2026-03-03T14:00:00Z', endsAt: '2026-03-03T15:00:00Z' });

    // The thank-yous go out over SMTP.
    const spell = createEnglishSpellChecker();
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    const dispatched = await dispatchDueMessages(database.db, { mailer, clock: () => now, log: pino({ level: 'silent' }), batchSize: 100, leaseMs: 60_000, concurrency: 2 });
    expect(dispatched.sent).toBeGreaterThanOrEqual(3);
    expect(sink.messages.some((message) => message.raw.includes(INTERVIEWERS[0]!.email))).toBe(true);

    const debrief = await gql(app, tenant.token, `mutation ($id: ID!, $input: UpdateInterviewInput!) { updateInterview(id: $id, input: $input) { id } }`, {
      id: interviewId,
      input: DEBRIEF,
    });
    expect(debrief.errors).toBeUndefined();

    now = new Date('2026-03-05T10:00:00Z');
    const reply = await gql(app, tenant.token, `mutation ($id: ID!) { recordReply(input: { interviewId: $id, fromEmail: "alan.wombat@northwind.example" }) { id } }`, { id: interviewId });
    expect(reply.errors).toBeUndefined();
    // A second round next week: its plan is still active when the erasure comes.
    laterInterviewId = (await scheduleInterviewVia(app, tenant.token, erin, { startsAt: '2026-03-10T14:00:00Z', endsAt: '2026-03-10T15:00:00Z', interviewers: INTERVIEWERS })).id;
    await gql(app, tenant.token, `mutation { suppressAddress(address: "erin.eraseme@example.org") { address } }`);
    // An audit event in the shape written before audit data held field names only.
    await sql`INSERT INTO audit_events (tenant_id, id, actor, action, entity_type, entity_id, data)
      VALUES (${tenant.id}, '01a20000-0000-7000-8000-0000000a0d17', 'legacy', 'candidate.created', 'candidate', ${erin},
              ${JSON.stringify({ created: { name: ERIN.name, email: ERIN.email, phone: ERIN.phone } })}::jsonb)`.execute(database.db);
    expect((await findMentions(database.db, PERSONAL)).length).toBeGreaterThan(10);
  }, 120_000);
  afterAll(async () => {
    await mailer?.close();
    await sink?.close();
    await app?.close();
    await database?.close();
  });

  it('needs policy:admin and is closed to candidate tokens', async () => {
    const write = await gql(app, tokenFor(tenant.id, { scopes: ['followups:read', 'followups:write'] }), `mutation ($id: ID!) { eraseCandidate(id: $id) { id } }`, { id: erin });
    expect(write.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    const other = await createTestTenant(database.db);
    const foreign = await gql(app, other.token, `mutation ($id: ID!) { eraseCandidate(id: $id) { id } }`, { id: erin });
    expect(foreign.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('erases the candidate everywhere in one go; nothing personal is left in any table', async () => {
    const erased = await gql(app, tenant.token, `mutation ($id: ID!) { eraseCandidate(id: $id) { id erasedAt } }`, { id: erin });
    expect(erased.errors).toBeUndefined();
    expect(erased.data.eraseCandidate).toEqual({ id: erin, erasedAt: now.toISOString() });

    expect(await findMentions(database.db, PERSONAL)).toEqual([]);
    // The other candidate is untouched.
    expect(await findMentions(database.db, ['Carla Control', 'carla.control@example.org'])).not.toEqual([]);
  });

  it('afterwards the id answers NOT_FOUND, and nothing more is planned for them', async () => {
    for (const [query, variables] of [
      [`query ($id: ID!) { candidate(id: $id) { id } }`, { id: erin }],
      [`mutation ($id: ID!) { updateCandidate(id: $id, input: { name: "Back" }) { id } }`, { id: erin }],
      [`mutation ($id: ID!) { eraseCandidate(id: $id) { id } }`, { id: erin }],
      [`mutation ($id: ID!) { createCandidateToken(candidateId: $id) { token } }`, { id: erin }],
    ] as const) {
      const result = await gql(app, tenant.token, query, variables);
      expect(result.errors?.[0]?.extensions.code, query).toBe('NOT_FOUND');
    }
    const list = await gql(app, tenant.token, `{ candidates { edges { node { id } } } }`);
    expect(list.data.candidates.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([control]);
    const plan = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { status steps { status } } } }`, { id: interviewId });
    // The employer's reply had already ended this plan (completed); an active one is cancelled.
    expect(['CANCELLED', 'COMPLETED']).toContain(plan.data.interview.followUpPlan.status);
    expect(plan.data.interview.followUpPlan.steps.map((step: { status: string }) => step.status)).not.toContain('SCHEDULED');
    const later = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { status statusReason steps { status } } } }`, { id: laterInterviewId });
    expect(later.data.interview.followUpPlan).toMatchObject({ status: 'CANCELLED', statusReason: 'candidate_erased' });
    expect(later.data.interview.followUpPlan.steps.every((step: { status: string }) => step.status === 'CANCELLED')).toBe(true);
  });

  it('the audit trail keeps its events, and stays append-only for anything but erasure', async () => {
    const events = await sql<{ action: string; data: unknown }>`SELECT action, data FROM audit_events WHERE tenant_id = ${tenant.id} AND entity_id = ${erin} ORDER BY id`.execute(database.db);
    expect(events.rows.map((row) => row.action)).toContain('candidate.erased');
    await expect(sql`UPDATE audit_events SET data = '{"rewritten": true}'::jsonb WHERE tenant_id = ${tenant.id}`.execute(database.db)).rejects.toThrow(/append-only/);
    await expect(sql`UPDATE audit_events SET actor = 'someone else', data = '{"erased": true}'::jsonb WHERE tenant_id = ${tenant.id}`.execute(database.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_events WHERE tenant_id = ${tenant.id}`.execute(database.db)).rejects.toThrow(/append-only/);
  });
});
