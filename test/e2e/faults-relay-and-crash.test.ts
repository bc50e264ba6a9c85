import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';
import { seedDueThankYous } from '../support/due-messages.js';
import { type ServiceProcess, serviceEnv, startService } from '../support/processes.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { eventually } from '../support/eventually.js';

// The fault suite, relay and crash cases: the service runs as a worker process on PostgreSQL
// against a real SMTP server, which (c) refuses connections for a while, or whose worker is
// (d) killed with kill -9 and restarted. Each case ends with every message delivered, duplicates
// within the bound (each a copy under the same Message-ID), nothing dead, and reports its figures.

const JWT_SECRET = 'an-end-to-end-secret-long-enough';
const STARTUP_TIMEOUT_MS = 90_000;
/** The worker runs with its default WORKER_HANDOVER_WINDOW: the most one crash may send twice. */
const DEFAULT_HANDOVER_WINDOW = loadConfig({}).worker.handoverWindow;

/** Arrivals per Message-ID, and the duplicates among them. */
function arrivalsOf(sink: SmtpSink) {
  const arrivals = new Map<string, number>();
  for (const message of sink.messages) arrivals.set(message.messageId!, (arrivals.get(message.messageId!) ?? 0) + 1);
  const duplicates = [...arrivals.values()].reduce((sum, count) => sum + (count - 1), 0);
  return { arrivals, duplicates };
}

// Several processes on one database: PostgreSQL only (always in CI).
describe.each(testDatabaseKinds().filter((kind) => kind === 'postgres'))('fault suite, relay and crashes, on %s', (kind) => {
  let database: TestDatabase;
  let sink: SmtpSink;
  const workers: ServiceProcess[] = [];

  // Short settings so each case takes seconds: the worker ticks every second, leases last 4 s
  // (renewed every second), and the relay is probed at least every 2 s.
  const env = (extra: Record<string, string> = {}) =>
    serviceEnv({
      DATABASE_URL: database.url,
      JWT_SECRET,
      SMTP_URL: sink.url,
      WORKER_CRON: '* * * * * *',
      WORKER_LEASE_SECONDS: '4',
      WORKER_HEARTBEAT_SECONDS: '1',
      WORKER_RELAY_PROBE_MAX_SECONDS: '2',
      ...extra,
    });

  /** Whether all `total` messages of the tenant are written and sent. */
  async function allSent(tenantId: string, total: number): Promise<boolean> {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${tenantId} AND status = 'sent'`.execute(database.db);
    return rows[0]!.n === total;
  }

  async function storedMessageIds(tenantId: string): Promise<Set<string>> {
    const { rows } = await sql<{ message_id_header: string }>`SELECT message_id_header FROM messages WHERE tenant_id = ${tenantId}`.execute(database.db);
    return new Set(rows.map((row) => row.message_id_header));
  }

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await sink?.close();
    await database?.close();
  });

  it('(c) the relay refuses connections for a while: nothing goes dead, no attempt is spent, every message arrives once, and sending resumes soon after the relay returns', async () => {
    sink.reset();
    sink.setResponder(null);
    const { tenantId } = await seedDueThankYous(database, 10, 10);
    const worker = await startService(env(), ['--mode=worker'], STARTUP_TIMEOUT_MS);
    workers.push(worker);
    await eventually(async () => sink.messages.length >= 10, 60_000, 'some messages sent');
    await sink.refuseConnections();
    const arrivedBeforeOutage = sink.messages.length;
    // The relay stays away for 8 s: several probes fail meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const arrivedDuringOutage = sink.messages.length - arrivedBeforeOutage;
    const back = Date.now();
    await sink.acceptConnections();
    const arrivedAtReturn = sink.messages.length;
    await eventually(async () => sink.messages.length > arrivedAtReturn, 60_000, 'the first message after the relay returned');
    const resumedMs = Date.now() - back;
    await eventually(async () => await allSent(tenantId, 100), 60_000, 'every message sent');
    const recoveredMs = Date.now() - back;

    const { arrivals, duplicates } = arrivalsOf(sink);
    const stored = await storedMessageIds(tenantId);
    const { rows } = await sql<{ status: string; max_attempts: number; n: number }>`
      SELECT status, max(attempts)::int AS max_attempts, count(*)::int AS n FROM messages WHERE tenant_id = ${tenantId} GROUP BY status`.execute(database.db);
    console.info(
      `fault (c) relay refused connections for 8 s: sent 100, arrived ${sink.messages.length} (${arrivals.size} distinct), duplicates ${duplicates}, ` +
        `arrived during the outage ${arrivedDuringOutage}, first delivery ${resumedMs} ms and last ${recoveredMs} ms after the relay returned`,
    );
    expect(arrivals.size).toBe(100);
    expect([...arrivals.keys()].every((id) => stored.has(id))).toBe(true);
    // A connection cut while the server had a message's end may repeat that message, under its
    // Message-ID: at most one per connection, the default handover window.
    expect(duplicates).toBeLessThanOrEqual(DEFAULT_HANDOVER_WINDOW);
    // Nothing dead, and the outage spent no attempt: every message went on its first counted one.
    expect(rows).toEqual([{ status: 'sent', max_attempts: 1, n: 100 }]);
    // Sending resumes within the issue's minute of the relay's return (probes here are at most 2 s apart).
    expect(resumedMs).toBeLessThan(60_000);
    expect(worker.child.exitCode).toBeNull();
    expect(worker.output()).toContain('the mail relay is not reachable; sending pauses');
    expect(worker.output()).toContain('the mail relay answers again; sending resumes');
    await worker.stop();
  }, 240_000);

  it('(d) kill -9 mid-dispatch and restart, three times: every message arrives, at most a handover window of duplicates per kill (same Message-ID), and what the killed worker held is out soon after the restart (target 30 s)', async () => {
    sink.reset();
    const { tenantId } = await seedDueThankYous(database, 40, 10);
    // A slower server, so each kill lands mid-dispatch. The worker keeps its default sending
    // settings (32 sends in flight over 5 connections, a handover window of one per connection).
    sink.setResponder(async (event) => {
      if (event.stage === 'data') await new Promise((resolve) => setTimeout(resolve, 30));
      return null;
    });
    const kills = 3;
    const recoveries: Array<{ held: number; ms: number }> = [];
    const startups: number[] = [];
    let worker = await startService(env(), ['--mode=worker'], STARTUP_TIMEOUT_MS);
    for (let k = 0; k < kills; k += 1) {
      const before = sink.messages.length;
      await eventually(async () => sink.messages.length >= before + 20 || (await allSent(tenantId, 400)), 60_000, 'some messages sent');
      worker.child.kill('SIGKILL');
      await worker.exited;
      // What the killed worker held: claimed, leased, not settled.
      const { rows: held } = await sql<{ id: string }>`SELECT id FROM messages WHERE tenant_id = ${tenantId} AND status = 'sending'`.execute(database.db);
      const spawnedAt = Date.now();
      worker = await startService(env(), ['--mode=worker'], STARTUP_TIMEOUT_MS);
      // Measured from the moment the restarted worker is up (its start alone takes seconds on a busy machine).
      const restartedAt = Date.now();
      startups.push(restartedAt - spawnedAt);
      const ids = held.map((row) => row.id);
      const recoveredAt = await eventually(
        async () => {
          if (ids.length === 0) return restartedAt;
          const { rows } = await sql<{ n: number; last: Date | null }>`
            SELECT count(*) FILTER (WHERE status <> 'sent')::int AS n, max(updated_at) AS last FROM messages WHERE tenant_id = ${tenantId} AND id = ANY(${ids}::uuid[])`.execute(database.db);
          return rows[0]!.n === 0 ? rows[0]!.last!.getTime() : false;
        },
        60_000,
        'the killed worker’s messages',
      );
      recoveries.push({ held: ids.length, ms: recoveredAt - restartedAt });
    }
    workers.push(worker);
    await eventually(async () => await allSent(tenantId, 400), 120_000, 'every message sent');

    const { arrivals, duplicates } = arrivalsOf(sink);
    const stored = await storedMessageIds(tenantId);
    console.info(
      `fault (d) kill -9 x${kills}: sent 400, arrived ${sink.messages.length} (${arrivals.size} distinct), duplicates ${duplicates}; ` +
        `held by each killed worker and out after its restart: ${recoveries.map((r) => `${r.held} in ${r.ms} ms`).join(', ')} (restarts took ${startups.join(', ')} ms)`,
    );
    expect(arrivals.size).toBe(400);
    // Each kill may repeat what was handed over and not yet recorded: at most the window.
    expect(duplicates).toBeLessThanOrEqual(kills * DEFAULT_HANDOVER_WINDOW);
    // A duplicate is the same message sent again: same Message-ID, so mail systems recognise it.
    expect([...arrivals.keys()].every((id) => stored.has(id))).toBe(true);
    expect(recoveries.some((r) => r.held > 0)).toBe(true);
    // The target is 30 s (a 4 s lease here, then a few seconds of sending). The assertion is
    // generous, a correctness bound (nothing waits for the 120 s leases of old), because a CI
    // machine shared by many jobs starves the processes; the measured figures are printed above.
    for (const recovery of recoveries) expect(recovery.ms).toBeLessThan(90_000);
    expect(worker.child.exitCode).toBeNull();
  }, 400_000);
});
