import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer, type Mailer } from '../../src/mail/mailer.js';
import { dispatchDueMessages } from '../../src/services/message-dispatch.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, interviewInput, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

// Random and hostile values thrown at every mutation and REST route: the service must refuse
// them cleanly (never a 500, never INTERNAL), store nothing from a refused request, and never
// let a value become a mail header.

const hostileStrings = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    "' OR '1'='1",
    "Robert'); DROP TABLE candidates;--",
    'Ada\r\nBcc: victim@evil.example',
    'Subject\nX-Injected: yes',
    '\u0000null byte',
    '\ud800 lone surrogate',
    '\u202egnp.exe',
    '{{candidate.email}}',
    '<script>alert(1)</script>',
    '../../etc/passwd',
    'x'.repeat(100_000),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)), maxLength: 4 }),
);

const hostileValues: fc.Arbitrary<unknown> = fc.oneof(
  hostileStrings,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileStrings, { maxLength: 3 }),
  fc.array(fc.constant('topic'), { minLength: 1000, maxLength: 1000 }),
  fc.dictionary(fc.string({ maxLength: 8 }), hostileStrings, { maxKeys: 3 }),
);

/** Each field either valid or hostile: most runs break one or two fields at a time. */
function mostlyValid<T extends Record<string, unknown>>(valid: T): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(Object.entries(valid).map(([key, value]) => [key, fc.oneof({ weight: 3, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: hostileValues })]));
  return fc.record(fields) as fc.Arbitrary<Record<string, unknown>>;
}

const TABLES = [
  'tenants',
  'policies',
  'candidates',
  'companies',
  'interviews',
  'interviewers',
  'follow_up_plans',
  'follow_up_steps',
  'messages',
  'replies',
  'suppressions',
  'webhook_endpoints',
  'webhook_deliveries',
] as const;

describe('hostile input', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let tenant: TestTenant;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    app = await createTestApp(database.db, { webhooks: { allowPrivate: false, requireHttps: true } });
    tenant = await createTestTenant(database.db);
    ids.candidate = await createCandidateVia(app, tenant.token);
    ids.interview = (await scheduleInterviewVia(app, tenant.token, ids.candidate)).id;
    const plan = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { id steps { id } } } }`, { id: ids.interview });
    ids.plan = plan.data.interview.followUpPlan.id;
    ids.step = plan.data.interview.followUpPlan.steps[0].id;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  /** Row counts and a digest of the content of every table (what "nothing written" means). */
  async function snapshot(): Promise<string> {
    const parts = await Promise.all(
      TABLES.map(async (table) => {
        const { rows } = await sql<{ n: number; digest: string | null }>`SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM ${sql.table(table)} AS t`.execute(database.db);
        return `${table}:${rows[0]!.n}:${rows[0]!.digest}`;
      }),
    );
    return parts.join(',');
  }

  /** The call never fails with a server error; a refused call leaves every table as it was. */
  async function expectCleanRefusalOrSuccess(call: () => Promise<{ status: number; failed: boolean; codes: string[] }>) {
    const before = await snapshot();
    const result = await call();
    expect(result.status).toBeLessThan(500);
    expect(result.codes).not.toContain('INTERNAL');
    if (result.failed) expect(await snapshot()).toBe(before);
    return result;
  }

  const graphQL = (query: string, variables: Record<string, unknown>) => async () => {
    const result = await gql(app, tenant.token, query, variables);
    const codes = (result.errors ?? []).map((error) => error.extensions?.code ?? 'NONE');
    return { status: result.status, failed: codes.length > 0, codes };
  };

  const mutations: Array<[string, string, fc.Arbitrary<Record<string, unknown>>]> = [
    [
      'createCandidate',
      `mutation ($input: CreateCandidateInput!) { createCandidate(input: $input) { id } }`,
      mostlyValid({ name: 'Ada Lovelace', email: 'ada@example.com', phone: '+14155550123', timezone: 'Europe/London', consent: true, linkedinUrl: 'https://www.linkedin.com/in/ada', signature: 'Ada' }).map((input) => ({ input })),
    ],
    [
      'updateCandidate',
      `mutation ($id: ID!, $input: UpdateCandidateInput!) { updateCandidate(id: $id, input: $input) { id } }`,
      fc.record({ id: fc.oneof(fc.constant('CANDIDATE'), hostileStrings), input: mostlyValid({ name: 'Ada King', phone: '+14155550124' }) }),
    ],
    [
      'scheduleInterview',
      `mutation ($input: ScheduleInterviewInput!) { scheduleInterview(input: $input) { id } }`,
      fc
        .record({
          base: mostlyValid({ ...interviewInput('CANDIDATE'), interviewers: undefined }),
          interviewers: fc.oneof(
            fc.constant([{ name: 'Grace Hopper', email: 'grace@northwind.example' }]),
            fc.array(mostlyValid({ name: 'Grace Hopper', email: 'grace@northwind.example', phone: '+14155550188', timezone: 'America/New_York', preferredChannel: 'EMAIL' }), { maxLength: 3 }),
            hostileValues,
          ),
        })
        .map(({ base, interviewers }) => ({ input: { ...base, interviewers } })),
    ],
    [
      'rescheduleInterview',
      `mutation ($id: ID!, $s: DateTime!, $e: DateTime!) { rescheduleInterview(id: $id, startsAt: $s, endsAt: $e) { id } }`,
      mostlyValid({ id: 'INTERVIEW', s: '2026-12-01T10:00:00Z', e: '2026-12-01T11:00:00Z' }),
    ],
    [
      'recordReply',
      `mutation ($input: RecordReplyInput!) { recordReply(input: $input) { id } }`,
      mostlyValid({ interviewId: 'INTERVIEW', fromEmail: 'ada@example.com', fromName: 'Ada', raisesConcerns: false }).map((input) => ({ input })),
    ],
    ['recordOutcome', `mutation ($id: ID!, $o: Outcome!) { recordOutcome(interviewId: $id, outcome: $o) { id } }`, mostlyValid({ id: 'UNKNOWN', o: 'OFFER' })],
    ['approveMessage', `mutation ($id: ID!, $s: String, $b: String) { approveMessage(id: $id, subject: $s, body: $b) { id } }`, mostlyValid({ id: 'STEP', s: 'Subject', b: 'Body' })],
    ['discardMessage', `mutation ($id: ID!) { discardMessage(id: $id) { id } }`, mostlyValid({ id: 'STEP' })],
    ['cancelFollowUpPlan', `mutation ($id: ID!, $r: String) { cancelFollowUpPlan(id: $id, reason: $r) { id } }`, mostlyValid({ id: 'UNKNOWN', r: 'changed mind' })],
    ['markStepDelivered', `mutation ($id: ID!) { markStepDelivered(id: $id) { id } }`, mostlyValid({ id: 'STEP' })],
    ['updatePolicy', `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`, fc.record({ d: fc.oneof(hostileValues, fc.jsonValue(), mostlyValid({ thankYou: { delayMinutes: 30 }, holidays: ['2026-12-25'] })) })],
    ['registerWebhookEndpoint', `mutation ($u: String!, $e: [String!]) { registerWebhookEndpoint(url: $u, events: $e) { secret } }`, mostlyValid({ u: 'https://hooks.partner.example/x', e: ['followup.sent'] })],
    ['suppressAddress', `mutation ($a: String!, $r: SuppressionReason) { suppressAddress(address: $a, reason: $r) { address } }`, mostlyValid({ a: 'opted.out@example.com', r: 'OPT_OUT' })],
    ['redeliverWebhook', `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }`, mostlyValid({ id: 'UNKNOWN' })],
    ['candidates query', `query ($f: Int, $a: String, $filter: CandidateFilter) { candidates(first: $f, after: $a, filter: $filter) { edges { cursor } } }`, mostlyValid({ f: 10, a: null, filter: { email: 'ada@example.com' } })],
  ];

  /** Placeholders in generated variables point at real ids, so some calls get past validation. */
  function withIds(value: unknown): unknown {
    if (typeof value === 'string') {
      return ({ CANDIDATE: ids.candidate, INTERVIEW: ids.interview, STEP: ids.step, PLAN: ids.plan, UNKNOWN: '01a20000-0000-7000-8000-000000000000' } as Record<string, string | undefined>)[value] ?? value;
    }
    if (Array.isArray(value)) return value.map(withIds);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withIds(inner)]));
    return value;
  }

  it.each(mutations)('%s: never a 500, never a partial write', async (_name, query, variables) => {
    await fc.assert(
      fc.asyncProperty(variables, async (generated) => {
        await expectCleanRefusalOrSuccess(graphQL(query, withIds(generated) as Record<string, unknown>));
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it.each([
    ['/v1/interviews', fc.oneof(mostlyValid(interviewInput('CANDIDATE')), fc.array(mostlyValid(interviewInput('CANDIDATE')), { maxLength: 3 }), hostileValues, fc.jsonValue())],
    ['/v1/replies', fc.oneof(mostlyValid({ interviewId: 'INTERVIEW', fromEmail: 'grace@northwind.example', raisesConcerns: true }), hostileValues, fc.jsonValue())],
    ['/v1/outcomes', fc.oneof(mostlyValid({ interviewId: 'UNKNOWN', outcome: 'HIRED' }), hostileValues, fc.jsonValue())],
  ] as const)('REST %s: never a 500, never a partial write', async (url, bodies) => {
    await fc.assert(
      fc.asyncProperty(bodies, fc.boolean(), async (body, asText) => {
        await expectCleanRefusalOrSuccess(async () => {
          const response = await app.inject({
            method: 'POST',
            url,
            headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
            // Sometimes a body that is not even JSON.
            payload: asText && typeof body === 'string' ? body : JSON.stringify(withIds(body) ?? null),
          });
          const json = response.json() as { error?: string; results?: Array<{ status: number; error?: { error: string } }> };
          const itemCodes = (json.results ?? []).flatMap((result) => (result.error ? [result.error.error] : []));
          const everyItemFailed = json.results ? json.results.every((result) => result.status >= 400) : true;
          return {
            status: response.statusCode,
            failed: response.statusCode >= 400 || (response.statusCode === 207 && everyItemFailed),
            codes: [...(json.error ? [json.error] : []), ...itemCodes],
          };
        });
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe('no header is ever injected into an email', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let sink: SmtpSink;
  let mailer: Mailer;
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    app = await createTestApp(database.db);
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/tmp/unused', log });
  });
  afterAll(async () => {
    await mailer?.close();
    await sink?.close();
    await app?.close();
    await database?.close();
  });

  // Values that pass validation yet look like header syntax, encoded words or address lists:
  // what could still reach a header if anything were assembled by hand.
  const trickyButAccepted = fc.oneof(
    fc.constantFrom(
      `O'Brien, "Jr." <evil@x.example>`,
      'Ada: Bcc: evil@x.example',
      'Name; Cc: evil@example.com',
      '=?utf-8?B?QmNjOiBldmlsQHguZXhhbXBsZQ==?=',
      'Zoë Łukasiewicz-Ñúñez',
      '山田 太郎',
      'x'.repeat(150),
      '%0d%0aBcc: evil@x.example',
    ),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((value) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value) && value.trim().length > 0),
  );

  const ALLOWED_HEADERS = new Set(['from', 'to', 'reply-to', 'subject', 'message-id', 'date', 'mime-version', 'content-type', 'content-transfer-encoding', 'x-afterview-message', 'in-reply-to', 'references']);

  it('whatever names, titles and tenant subjects are accepted, each mail has one recipient and only our headers', async () => {
    let mailsChecked = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: trickyButAccepted }, { weight: 1, arbitrary: hostileStrings }), trickyButAccepted, trickyButAccepted, async (name, title, subject) => {
        sink.reset();
        const tenant = await createTestTenant(database.db);
        const policy = await gql(app, tenant.token, `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`, {
          d: { businessHours: 'always', thankYou: { delayMinutes: 0 }, templates: { thankYou: { subject: `${subject} {{position.title}}` } } },
        });
        const candidate = await gql(app, tenant.token, `mutation ($input: CreateCandidateInput!) { createCandidate(input: $input) { id } }`, {
          input: { name: `Ada ${name}`.slice(0, 200), email: 'ada@example.com', consent: true },
        });
        const candidateId = candidate.data?.createCandidate?.id ?? (await createCandidateVia(app, tenant.token));
        const ended = new Date(Date.now() - 60_000);
        const scheduled = await gql(app, tenant.token, `mutation ($input: ScheduleInterviewInput!) { scheduleInterview(input: $input) { id } }`, {
          input: interviewInput(candidateId, {
            positionTitle: `Engineer ${title}`.slice(0, 200),
            startsAt: new Date(ended.getTime() - 3_600_000).toISOString(),
            endsAt: ended.toISOString(),
            interviewers: [{ name: `Grace ${name}`.slice(0, 200), email: 'grace@northwind.example', title }],
          }),
        });
        if (!policy.data || !scheduled.data?.scheduleInterview) return;
        await evaluateDueSteps(database.db, { now: new Date(), batchSize: 50, spell: createEnglishSpellChecker() });
        await dispatchDueMessages(database.db, { mailer, clock: () => new Date(), log, batchSize: 50, leaseMs: 60_000, concurrency: 2 });
        for (const message of sink.messages) {
          mailsChecked += 1;
          expect(message.envelope.rcptTo).toEqual(['grace@northwind.example']);
          for (const line of message.headerLines) expect(ALLOWED_HEADERS.has(line.key), `unexpected header ${line.key}`).toBe(true);
        }
      }),
      { numRuns: 25 },
    );
    // The property is only worth something if hostile values did reach the mail server.
    expect(mailsChecked).toBeGreaterThan(5);
  }, 180_000);
});
