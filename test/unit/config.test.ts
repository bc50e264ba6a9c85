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

  it('validates every setting before anything starts, and lists every problem at once', () => {
    expect(() => loadConfig({ WORKER_CRON: 'every minute' })).toThrow(/WORKER_CRON: is not a valid cron expression/);
    expect(() => loadConfig({ WORKER_CRON: '61 * * * * *' })).toThrow(/WORKER_CRON/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ SMTP_URL: 'http://relay.example' })).toThrow(/SMTP_URL: must be smtp/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db.example/afterview' })).toThrow(/DATABASE_URL: must be postgres/);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS/);
    const both = () => loadConfig({ PORT: 'eighty', WORKER_CRON: 'never' });
    expect(both).toThrow(/PORT: .*; WORKER_CRON: /);
  });

  it('accepts cron expressions with and without seconds, and real URLs', () => {
    expect(loadConfig({ WORKER_CRON: '*/5 * * * *' }).workerCron).toBe('*/5 * * * *');
    expect(loadConfig({ WORKER_CRON: '*/2 * * * * *' }).workerCron).toBe('*/2 * * * * *');
    expect(loadConfig({ SMTP_URL: 'smtps://user:pass@relay.example:465' }).smtpUrl).toBe('smtps://user:pass@relay.example:465');
    expect(loadConfig({ DATABASE_URL: 'postgresql://afterview@db.example/afterview' }).databaseUrl).toBe('postgresql://afterview@db.example/afterview');
  });

  it('has database timeouts, each with its own setting', () => {
    expect(loadConfig({}).databaseTimeouts).toEqual({ connectMs: 5_000, statementMs: 30_000, idleInTransactionMs: 60_000 });
    expect(
      loadConfig({ DATABASE_CONNECT_TIMEOUT_MS: '2000', DATABASE_STATEMENT_TIMEOUT_MS: '10000', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '20000' }).databaseTimeouts,
    ).toEqual({ connectMs: 2_000, statementMs: 10_000, idleInTransactionMs: 20_000 });
  });

  it('refuses to run in production without JWT_SECRET (no generated secret, no dev tenant)', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: required when NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).production).toBe(true);
  });

  it('SMTP_MAX_PER_SECOND is off by default, a whole number of messages per second when set', () => {
    expect(loadConfig({}).worker.smtpMaxPerSecond).toBeUndefined();
    expect(loadConfig({ SMTP_MAX_PER_SECOND: '14' }).worker.smtpMaxPerSecond).toBe(14);
    expect(() => loadConfig({ SMTP_MAX_PER_SECOND: '0' })).toThrow(/SMTP_MAX_PER_SECOND: .*at least 1/);
    expect(() => loadConfig({ SMTP_MAX_PER_SECOND: '2.5' })).toThrow(/SMTP_MAX_PER_SECOND: .*whole number/);
    expect(() => loadConfig({ SMTP_MAX_PER_SECOND: 'fast' })).toThrow(/SMTP_MAX_PER_SECOND/);
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
