import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';
import { TEST_JWT_SECRET } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';

// GraphiQL comes from the service's own files: in a browser that can reach nothing but this
// machine, the page still renders and asks no other host for anything.

describe('GraphiQL in a real browser, offline', () => {
  let database: TestDatabase;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let browser: TestBrowser;
  let base: string;

  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    app = await buildApp({ db: database.db, jwtSecret: TEST_JWT_SECRET, logger: false, introspection: true });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.close();
  });

  it('renders its editor and toolbar with no request beyond the service', async () => {
    const { context, refused } = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    const response = await page.goto(`${base}/graphiql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByRole('button', { name: /execute query/i }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.graphiql-container').count()).toBe(1);
    expect(refused).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('serves only the assets it names', async () => {
    expect((await app.inject('/graphiql/assets/graphiql.min.js')).headers['content-type']).toMatch(/javascript/);
    expect((await app.inject('/graphiql/assets/graphiql.min.css')).headers['content-type']).toMatch(/css/);
    expect((await app.inject('/graphiql/assets/..%2F..%2Fpackage.json')).statusCode).toBe(404);
    expect((await app.inject('/graphiql/assets/constructor')).statusCode).toBe(404);
  });
});
