import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: path.resolve('./data'),
      smtpUrl: undefined,
      jwtSecret: undefined,
      workerCron: '*/15 * * * * *',
      webhookAllowPrivate: false,
    });
  });

  it('reads the environment and treats memory:// as in-memory PGlite', () => {
    const config = loadConfig({ PORT: '8080', DATABASE_URL: 'memory://', WEBHOOK_ALLOW_PRIVATE: 'true', JWT_SECRET: 'x'.repeat(32) });
    expect(config).toMatchObject({ port: 8080, databaseUrl: undefined, dataDir: 'memory://', webhookAllowPrivate: true });
  });

  it('names the bad setting', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
  });

  it('worker leases are short and renewed: a heartbeat of a quarter lease by default, never more than half of one', () => {
    expect(loadConfig({}).worker).toMatchObject({ leaseMs: 20_000, heartbeatMs: 5_000, relayProbeMaxMs: 30_000 });
    expect(loadConfig({ WORKER_LEASE_SECONDS: '4', WORKER_HEARTBEAT_SECONDS: '0.5', WORKER_RELAY_PROBE_MAX_SECONDS: '2' }).worker).toMatchObject({
      leaseMs: 4_000,
      heartbeatMs: 500,
      relayProbeMaxMs: 2_000,
    });
    expect(() => loadConfig({ WORKER_LEASE_SECONDS: '10', WORKER_HEARTBEAT_SECONDS: '6' })).toThrow(/WORKER_HEARTBEAT_SECONDS/);
    expect(() => loadConfig({ WORKER_LEASE_SECONDS: '1' })).toThrow(/WORKER_LEASE_SECONDS/);
    expect(() => loadConfig({ WORKER_RELAY_PROBE_MAX_SECONDS: '0' })).toThrow(/WORKER_RELAY_PROBE_MAX_SECONDS/);
  });
});
