import { describe, expect, it } from 'vitest';
import { serviceEnv, spawnService } from '../support/processes.js';

// Every setting is checked before anything starts: a bad one ends the process with exit code 1
// and a message naming it, before the API listens or the database is opened.

async function startAndWait(env: NodeJS.ProcessEnv, args: string[] = []) {
  const started = spawnService(env, args);
  const code = await started.exited;
  return { code, output: started.output() };
}

describe('startup refuses a bad configuration', () => {
  it('an invalid WORKER_CRON exits 1 naming it, before the API listens', async () => {
    const { code, output } = await startAndWait(serviceEnv({ DATA_DIR: 'memory://', WORKER_CRON: 'every minute' }));
    expect(code).toBe(1);
    expect(output).toContain('WORKER_CRON');
    expect(output).not.toContain('Afterview API on');
  }, 60_000);

  it('an invalid PORT exits 1 naming it', async () => {
    const { code, output } = await startAndWait(serviceEnv({ DATA_DIR: 'memory://', PORT: 'http' }));
    expect(code).toBe(1);
    expect(output).toContain('PORT');
  }, 60_000);

  it('production without JWT_SECRET exits 1: no generated secret, no dev tenant, no token in the log', async () => {
    const { code, output } = await startAndWait(serviceEnv({ DATA_DIR: 'memory://', NODE_ENV: 'production' }), ['--mode=api']);
    expect(code).toBe(1);
    expect(output).toContain('JWT_SECRET: required when NODE_ENV=production');
    expect(output).not.toMatch(/Development token|eyJ[A-Za-z0-9_-]{10,}/);
  }, 60_000);

  it('an unknown --mode exits 1 naming the modes', async () => {
    const { code, output } = await startAndWait(serviceEnv({ DATA_DIR: 'memory://' }), ['--mode=everything']);
    expect(code).toBe(1);
    expect(output).toMatch(/--mode must be/);
  }, 60_000);
});
