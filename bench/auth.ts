import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { createTenant } from '../src/services/tenants.js';
import { mintToken } from '../src/services/tokens.js';
import { createBenchDatabase, median, report } from './support.js';

// The cost of authentication per request: the same tiny route with and without
// `app.authenticate`, in-process (fastify inject, no network), on PostgreSQL, alternating
// rounds; the difference per request is what verifying the token and the tenant's access facts
// costs. Written against the app's public surface only, so the same file measures older
// versions of the code too (the "before" figure in issue 11's note).

const SECRET = 'bench-secret-long-enough-for-hs256';
const REQUESTS = Number(process.env.BENCH_AUTH_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_AUTH_ROUNDS ?? 5);

export async function authBenchmark(): Promise<void> {
  const database = await createBenchDatabase(4);
  try {
    const tenant = await createTenant(database.db, { slug: 'auth-bench', mailDomain: 'afterview.localhost' });
    const token = mintToken(SECRET, { tenantId: tenant.id, sub: 'bench' });
    const app = await buildApp({ db: database.db, jwtSecret: SECRET, logger: false, rateLimitPerMinute: 0 });
    app.get('/bench/open', async () => 'ok');
    app.get('/bench/authenticated', async (request) => {
      await app.authenticate(request);
      return 'ok';
    });
    await app.ready();
    const headers = { authorization: `Bearer ${token}` };
    const check = await app.inject({ method: 'GET', url: '/bench/authenticated', headers });
    if (check.statusCode !== 200) throw new Error(`authenticated route answered ${check.statusCode}: ${check.body}`);

    const run = async (url: string) => {
      const started = performance.now();
      for (let i = 0; i < REQUESTS; i += 1) await app.inject({ method: 'GET', url, headers });
      return ((performance.now() - started) * 1000) / REQUESTS;
    };
    await run('/bench/open');
    await run('/bench/authenticated');
    const open: number[] = [];
    const authenticated: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      open.push(await run('/bench/open'));
      authenticated.push(await run('/bench/authenticated'));
    }
    const fmt = (values: number[]) => `${median(values).toFixed(1)} (rounds: ${values.map((v) => v.toFixed(1)).join(', ')})`;
    report(`Authentication per request (PostgreSQL, in-process inject, ${ROUNDS} alternating rounds of ${REQUESTS})`, [
      ['route without authentication (µs per request, median)', fmt(open)],
      ['same route with app.authenticate (µs per request, median)', fmt(authenticated)],
      ['cost of authentication (µs per request, median of per-round differences)', median(authenticated.map((v, i) => v - open[i]!)).toFixed(1)],
    ]);
    await app.close();
  } finally {
    await database.drop();
  }
}
