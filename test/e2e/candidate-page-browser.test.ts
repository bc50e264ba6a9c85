import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createEnglishSpellChecker } from '../../src/services/spell-checker.js';
import { evaluateDueSteps } from '../../src/services/step-evaluation.js';
import { createCandidateVia, createTestTenant, gql, scheduleInterviewVia, TEST_JWT_SECRET, type TestTenant } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';

// The candidate's page in a real (headless) Chromium that can reach nothing but this machine:
// a partner makes a link, the candidate opens it, records the debrief, edits and approves one
// held note, discards another, pauses and resumes, all through the public API. axe-core checks
// every view; screenshots of each land in SCREENSHOTS (a temporary folder unless set).

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? path.join(os.tmpdir(), 'afterview-candidate-page');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** Serious and critical axe-core findings of the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, so the page's CSP (no inline scripts) does not apply.
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations)`)) as AxeViolation[];
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
}

/** The text of the element that has keyboard focus. */
async function focusedText(page: Page): Promise<string | null> {
  return (await page.evaluate('document.activeElement ? document.activeElement.textContent : null')) as string | null;
}

describe('the candidate’s page in a real browser, offline', () => {
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let browser: TestBrowser;
  let base: string;
  let tenant: TestTenant;
  let ada: string;
  let interview: string;
  let link: string;
  let expiredLink: string;
  const problems: string[] = [];
  const refusedEverywhere: string[] = [];

  async function openPage(url: string, width = 1024): Promise<Page> {
    const { context, refused } = await browser.newContext({ width, height: 900 });
    refusedEverywhere.push(...refused);
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of (400|404|410)/.test(message.text())) problems.push(message.text());
    });
    page.on('close', () => refusedEverywhere.push(...refused));
    await page.goto(url);
    return page;
  }

  async function shoot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  const secretOf = (url: string) => new URL(url).hash;

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    database = await openTestDatabase('pglite');
    app = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    tenant = await createTestTenant(database.db);
    await gql(app, tenant.token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0, approval: "review" } }) { version } }`);
    const ended = new Date(Date.now() - 60_000);
    const times = { startsAt: new Date(ended.getTime() - 3_600_000).toISOString(), endsAt: ended.toISOString() };
    ada = await createCandidateVia(app, tenant.token, { email: 'ada@example.com', timezone: 'Europe/London' });
    interview = (await scheduleInterviewVia(app, tenant.token, ada, times)).id;
    // Another candidate of the same tenant, whose data must never reach Ada's page.
    const bob = await createCandidateVia(app, tenant.token, { email: 'bob@example.com', name: 'Bob Sponge' });
    await scheduleInterviewVia(app, tenant.token, bob, {
      ...times,
      companyName: 'Globex Corporation',
      interviewers: [{ name: 'Hank Scorpio', email: 'hank@globex.example', isPrimaryContact: true }],
    });
    // The thank-yous fall due and are written; the policy holds them for the candidate.
    await evaluateDueSteps(database.db, { now: new Date(), batchSize: 100, spell: createEnglishSpellChecker() });
    const mint = async () => (await gql(app, tenant.token, `mutation ($id: ID!) { createReviewLink(candidateId: $id) { id url } }`, { id: ada })).data.createReviewLink;
    link = `${base}/review${secretOf((await mint()).url)}`;
    const old = await mint();
    await sql`UPDATE review_links SET expires_at = now() - interval '1 minute' WHERE id = ${old.id}`.execute(database.db);
    expiredLink = `${base}/review${secretOf(old.url)}`;
    browser = await launchBrowser();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.close();
  });

  it('opens from the link: interviews, the plan in the candidate’s zone, held notes; nobody else’s data', async () => {
    const page = await openPage(link);
    await page.getByRole('heading', { name: 'Senior Data Engineer at Northwind Analytics' }).waitFor();
    const text = await page.locator('body').innerText();
    expect(text).toContain('Times are shown in your time zone, Europe/London.');
    expect(text).not.toMatch(/Globex|Hank Scorpio|Bob Sponge/);
    const plan = page.getByRole('list').filter({ hasText: 'Thank-you note' });
    await expect(plan.getByRole('listitem').filter({ hasText: 'Thank-you note to Grace Hopper by email' }).innerText()).resolves.toContain('Waiting for your approval');
    await expect(plan.getByRole('listitem').filter({ hasText: /Check-in to Grace Hopper/ }).innerText()).resolves.toMatch(/Waits a few days so they have time to decide/);
    expect(await page.getByRole('form').filter({ has: page.getByRole('textbox', { name: 'Subject' }) }).count()).toBe(2);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, '1-opened');
    await page.context().close();
  }, 60_000);

  it('records the debrief: an error shows beside its field, and the check-in moves to the decision date', async () => {
    const page = await openPage(link);
    const debrief = page.getByRole('form', { name: 'Your debrief' });
    await debrief.getByLabel('A link worth sending later').fill('not a link');
    await debrief.getByRole('button', { name: 'Save debrief' }).click();
    const resource = debrief.getByLabel('A link worth sending later');
    await expect.poll(() => resource.getAttribute('aria-invalid')).toBe('true');
    expect(await debrief.locator(`#${await resource.getAttribute('id')}-error`).innerText()).toMatch(/resourceUrl/);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, '2-debrief-error');

    await resource.fill('https://ada.example.com/streaming-notes');
    await debrief.getByLabel('Decision expected by').fill('2099-03-12T17:00');
    await debrief.getByLabel('Topics discussed with Grace Hopper').fill('team rituals, on-call');
    await debrief.getByLabel('What you want to stress again').fill('five years of streaming pipelines');
    await debrief.getByRole('button', { name: 'Save debrief' }).click();
    await page.getByRole('status').filter({ hasText: 'Debrief saved' }).waitFor();
    const checkIn = page.getByRole('listitem').filter({ hasText: /Check-in to Grace Hopper/ });
    expect(await checkIn.innerText()).toContain('Waits for the decision date you gave (Thursday 12 March)');
    expect(await checkIn.innerText()).toContain('Thursday 12 March at 23:00');

    const stored = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { decisionExpectedBy resourceUrl highlights interviewers { name topics } } }`, { id: interview });
    expect(stored.data.interview).toMatchObject({ decisionExpectedBy: '2099-03-12T17:00:00.000Z', resourceUrl: 'https://ada.example.com/streaming-notes', highlights: 'five years of streaming pipelines' });
    expect(stored.data.interview.interviewers[0]).toEqual({ name: 'Grace Hopper', topics: ['team rituals', 'on-call'] });
    await shoot(page, '3-debrief-saved');
    await page.context().close();
  }, 60_000);

  it('edits and approves one held note (L6 refuses “ASAP” beside the text) and discards another', async () => {
    const page = await openPage(link);
    const grace = page.getByRole('form', { name: /Thank-you note to Grace Hopper/ });
    const body = grace.getByRole('textbox', { name: 'Message' });
    const original = await body.inputValue();
    await body.fill(`${original}\n\nPlease answer ASAP.`);
    await grace.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => body.getAttribute('aria-invalid')).toBe('true');
    expect(await grace.locator(`#${await body.getAttribute('id')}-error`).innerText()).toMatch(/L6.*ASAP/);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, '4-lint-refusal');

    await grace.getByRole('textbox', { name: 'Subject' }).fill('Thank you, Grace: the Senior Data Engineer interview');
    await body.fill(original);
    await grace.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'Approved' }).waitFor();
    expect(await page.getByRole('form', { name: /Thank-you note to Grace Hopper/ }).count()).toBe(0);

    // Discarding, keyboard only: Tab to the button, Enter.
    const alan = page.getByRole('form', { name: /Thank-you note to Alan Turing/ });
    await alan.getByRole('textbox', { name: 'Message' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Discard');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Discarded' }).waitFor();
    const alanStep = page.getByRole('listitem').filter({ hasText: 'Thank-you note to Alan Turing' });
    expect(await alanStep.innerText()).toContain('You discarded it.');

    const messages = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { steps { kind recipient { name } message { status subject } } } } }`, { id: interview });
    const thankYous = messages.data.interview.followUpPlan.steps.filter((step: { kind: string }) => step.kind === 'THANK_YOU');
    const byName = Object.fromEntries(thankYous.map((step: { recipient: { name: string }; message: { status: string; subject: string } }) => [step.recipient.name, step.message]));
    expect(byName['Grace Hopper'].subject).toBe('Thank you, Grace: the Senior Data Engineer interview');
    expect(byName['Grace Hopper'].status).not.toBe('HELD');
    expect(byName['Alan Turing'].status).toBe('DISCARDED');
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, '5-approved-and-discarded');
    await page.context().close();
  }, 60_000);

  it('pauses and resumes follow-ups with the keyboard alone', async () => {
    const page = await openPage(link);
    await page.getByRole('heading', { name: 'Senior Data Engineer at Northwind Analytics' }).waitFor();
    // From the top of the page, Tab until the pause button has focus.
    let reached = false;
    for (let presses = 0; presses < 10 && !reached; presses += 1) {
      await page.keyboard.press('Tab');
      reached = (await focusedText(page)) === 'Pause follow-ups';
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Follow-ups paused' }).waitFor();
    expect(await page.getByRole('listitem').filter({ hasText: /Check-in to Grace Hopper/ }).innerText()).toContain('On hold: you paused follow-ups.');
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, '6-paused');
    // Focus is back on the interview's heading; the next Tab reaches the resume button.
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Resume follow-ups');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Follow-ups resumed' }).waitFor();
    const plan = await gql(app, tenant.token, `query ($id: ID!) { interview(id: $id) { followUpPlan { status } } }`, { id: interview });
    expect(plan.data.interview.followUpPlan.status).toBe('ACTIVE');
    await page.context().close();
  }, 60_000);

  it('reads at 360 px wide without sideways scrolling', async () => {
    const page = await openPage(link, 360);
    await page.getByRole('heading', { name: 'Senior Data Engineer at Northwind Analytics' }).waitFor();
    const widths = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth })')) as { scroll: number; viewport: number };
    expect(widths.scroll).toBeLessThanOrEqual(widths.viewport);
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, '7-narrow');
    await page.context().close();
  }, 60_000);

  it('an expired link says so and what to do', async () => {
    const page = await openPage(expiredLink);
    await page.getByRole('heading', { name: 'This link has expired' }).waitFor();
    expect(await page.locator('body').innerText()).toContain('Ask the recruiter who sent it for a new link.');
    expect(await page.title()).toBe('This link has expired');
    expect(await seriousViolations(page)).toEqual([]);
    await shoot(page, '8-expired');
    await page.context().close();
  });

  it('shows every interview of a candidate who has more than one request’s worth', async () => {
    const cleo = await createCandidateVia(app, tenant.token, { email: 'cleo@example.com', name: 'Cleo Moreau' });
    const ended = new Date(Date.now() - 60_000);
    for (let i = 1; i <= 12; i += 1) {
      await scheduleInterviewVia(app, tenant.token, cleo, {
        startsAt: new Date(ended.getTime() - i * 86_400_000 - 3_600_000).toISOString(),
        endsAt: new Date(ended.getTime() - i * 86_400_000).toISOString(),
        companyName: `Initech Branch ${i}`,
        interviewers: [{ name: `Peter Gibbons ${i}`, email: `peter${i}@initech.example`, isPrimaryContact: true }],
      });
    }
    const minted = (await gql(app, tenant.token, `mutation ($id: ID!) { createReviewLink(candidateId: $id) { url } }`, { id: cleo })).data.createReviewLink;
    const page = await openPage(`${base}/review${secretOf(minted.url)}`);
    await page.getByRole('heading', { name: 'Senior Data Engineer at Initech Branch 12' }).waitFor();
    const headings = await page.getByRole('heading', { level: 2 }).allInnerTexts();
    expect(headings.filter((text) => text.startsWith('Senior Data Engineer at Initech Branch')).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `Senior Data Engineer at Initech Branch ${i + 1}`).sort(),
    );
    await page.context().close();
  }, 120_000);

  it('asked nothing of any other host, and the page raised no errors', async () => {
    expect(refusedEverywhere).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('weighs little: the page, its stylesheet and its script', async () => {
    const files = ['/review', '/review/assets/page.css', '/review/assets/page.js'];
    const bodies = await Promise.all(files.map(async (url) => (await app.inject(url)).rawPayload));
    const bytes = bodies.reduce((sum, body) => sum + body.length, 0);
    const gzipped = bodies.reduce((sum, body) => sum + gzipSync(body).length, 0);
    // A budget, not a measurement: README gives the numbers.
    expect(bytes).toBeLessThan(64 * 1024);
    expect(gzipped).toBeLessThan(16 * 1024);
  });
});
