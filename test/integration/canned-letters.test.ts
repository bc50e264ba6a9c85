import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSentenceRatio } from '../../src/domain/sentence-overlap.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createCandidateVia, createTestApp, createTestTenant, gql, scheduleInterviewVia, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// L12 (not canned) and templates checked when saved (issue 12, items 4 and 5).

const MESSAGES = /* GraphQL */ `
  query ($id: ID!) { interview(id: $id) { followUpPlan { steps { kind status reason recipient { email } message { id status body lintFindings { rule level detail } } } } } }
`;
const UPDATE_POLICY = /* GraphQL */ `mutation ($d: JSON!) { updatePolicy(document: $d) { version } }`;

describe.each(testDatabaseKinds())('canned letters on %s', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let now = new Date('2026-03-03T16:00:00Z');
  const spell = createEnglishSpellChecker();

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await createTestApp(database.db, { clock: () => now });
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  async function tenantWith(policy: Record<string, unknown> = {}): Promise<TestTenant> {
    const tenant = await createTestTenant(database.db);
    const updated = await gql(app, tenant.token, UPDATE_POLICY, { d: { businessHours: 'always', thankYou: { delayMinutes: 0 }, ...policy } });
    expect(updated.errors).toBeUndefined();
    return tenant;
  }

  /** `count` candidates, each interviewed by the same person at the same company, thank-yous composed. */
  async function sameInterviewer(tenant: TestTenant, count: number) {
    const interviews = [];
    for (let index = 0; index < count; index += 1) {
      const candidateId = await createCandidateVia(app, tenant.token, { name: `Candidate Number${index}`, email: `candidate${index}@example.com` });
      interviews.push(
        await scheduleInterviewVia(app, tenant.token, candidateId, {
          startsAt: '2026-03-03T14:00:00Z',
          endsAt: '2026-03-03T15:00:00Z',
          topics: [],
          interviewers: [{ name: 'Grace Hopper', email: 'grace.hopper@northwind.example', isPrimaryContact: true }],
        }),
      );
      // One worker batch per candidate: later letters are compared with the ones already written.
      await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    }
    const steps = await Promise.all(
      interviews.map(async (interview) => (await gql(app, tenant.token, MESSAGES, { id: interview.id })).data.interview.followUpPlan.steps.find((step: any) => step.kind === 'THANK_YOU')),
    );
    return steps;
  }

  it('with our wording, candidates writing to one interviewer get different letters, none held', async () => {
    const tenant = await tenantWith();
    const steps = await sameInterviewer(tenant, 6);
    for (const step of steps) expect(step).toMatchObject({ status: 'QUEUED', message: { status: 'QUEUED' } });
    for (let a = 0; a < steps.length; a += 1) {
      for (let b = a + 1; b < steps.length; b += 1) expect(sharedSentenceRatio(steps[a].message.body, steps[b].message.body)).toBeLessThanOrEqual(0.5);
    }
    const { count } = await database.db
      .selectFrom('message_sentences')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('tenant_id', '=', tenant.id)
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBeGreaterThanOrEqual(6 * 4);
  });

  it("holds a tenant's fixed template the second time (NEEDS_REVIEW), naming both messages", async () => {
    const tenant = await tenantWith({
      templates: {
        thankYou: {
          body: '{{greeting}}\n\nThank you for the interview about the {{position.title}} role. I enjoyed meeting the team. I remain very interested.\n\n{{candidate.signature}}',
        },
      },
    });
    const [first, second] = await sameInterviewer(tenant, 2);
    expect(first).toMatchObject({ status: 'QUEUED' });
    expect(second).toMatchObject({ status: 'NEEDS_REVIEW', reason: 'lint_errors', message: { status: 'HELD' } });
    const l12 = second.message.lintFindings.find((finding: any) => finding.rule === 'L12');
    expect(l12).toMatchObject({ level: 'ERROR' });
    expect(l12.detail).toContain(first.message.id);
    expect(l12.detail).toContain(second.message.id);
    expect(l12.detail).toMatch(/shares 3 of its 3 sentences/);
  });

  it('only compares with other candidates, the same address or company, and the last 90 days', async () => {
    const tenant = await tenantWith({
      templates: { thankYou: { body: '{{greeting}}\n\nThank you for the {{position.title}} interview. I remain very interested.\n\n{{candidate.signature}}' } },
    });
    const candidateId = await createCandidateVia(app, tenant.token, { email: 'same@example.com' });
    for (const companyName of ['Northwind Analytics', 'Northwind Analytics', 'Contoso']) {
      await scheduleInterviewVia(app, tenant.token, candidateId, {
        companyName,
        topics: [],
        interviewers: [{ name: 'Alan Turing', email: `alan@${companyName === 'Contoso' ? 'contoso' : 'northwind'}.example` }],
      });
    }
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    const held = await database.db.selectFrom('messages').select('status').where('tenant_id', '=', tenant.id).execute();
    expect(held.map((row) => row.status)).toEqual(['queued', 'queued', 'queued']);

    // Ninety-one days later, another candidate's identical letter to the same company is fine.
    now = new Date(now.getTime() + 91 * 24 * 3600 * 1000);
    try {
      const other = await createCandidateVia(app, tenant.token, { email: 'other@example.com', name: 'Other Person' });
      await scheduleInterviewVia(app, tenant.token, other, {
        startsAt: new Date(now.getTime() - 3600_000).toISOString(),
        endsAt: new Date(now.getTime() - 1800_000).toISOString(),
        topics: [],
        interviewers: [{ name: 'Alan Turing', email: 'alan@northwind.example' }],
      });
      await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
      const all = await database.db.selectFrom('messages').select('status').where('tenant_id', '=', tenant.id).execute();
      expect(all.filter((row) => row.status === 'queued')).toHaveLength(4);
    } finally {
      now = new Date('2026-03-03T16:00:00Z');
    }
  });

  it.each([
    [{ finalCheckIn: { body: '{{greeting}}\n\nI am still interested in the {{position.title}} role.\n\n{{candidate.signature}}' } }, 'templates.finalCheckIn', 'L10'],
    [{ checkIn: { body: '{{greeting}}\n\nPlease reply ASAP.\n\n{{candidate.signature}}' } }, 'templates.checkIn', 'L6'],
    [{ thankYou: { subject: 'Thank you' } }, 'templates.thankYou', 'L2'],
    [{ keepInTouch: { body: 'Dear [Name],\n\nThanks for the {{position.title}} chat.' } }, 'templates.keepInTouch', 'L3'],
  ])('updatePolicy refuses a template that breaks an error-level rule (%#)', async (templates, field, rule) => {
    const tenant = await createTestTenant(database.db);
    const result = await gql(app, tenant.token, UPDATE_POLICY, { d: { templates } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(result.errors?.[0]?.message).toContain(rule);
    const good = await gql(app, tenant.token, UPDATE_POLICY, {
      d: { templates: { finalCheckIn: { body: '{{greeting}}\n\nCould you let me know the next steps for the {{position.title}} role?\n\n{{candidate.signature}}' } } },
    });
    expect(good.errors).toBeUndefined();
  });

  it('writing: formal greetings and British dates, validated', async () => {
    const tenant = await tenantWith({ writing: { greeting: 'formal', locale: 'en-GB' } });
    const candidateId = await createCandidateVia(app, tenant.token);
    const interview = await scheduleInterviewVia(app, tenant.token, candidateId, {
      timezone: 'Europe/London',
      interviewers: [{ name: 'Dr. Kenji Watanabe', email: 'kenji@northwind.example' }],
    });
    await evaluateDueSteps(database.db, { now, batchSize: 100, spell });
    const [step] = (await gql(app, tenant.token, MESSAGES, { id: interview.id })).data.interview.followUpPlan.steps;
    expect(step.message.body).toMatch(/^Dear Dr Watanabe,\n\n/);
    expect(step.message.body).toContain('Tuesday 3 March');
    const bad = await gql(app, tenant.token, UPDATE_POLICY, { d: { writing: { locale: 'fr-FR' } } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'writing.locale' });
  });
});
