import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config from '../../codegen.js';
import { DataDirectoryLockedError, openDatabase } from '../../src/db/database.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// Tables the migrator itself owns; everything else is ours.
const MIGRATOR_TABLES = ['kysely_migration', 'kysely_migration_lock'];

describe.each(testDatabaseKinds())('database schema on %s', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('every table carries tenant_id', async () => {
    const { rows } = await sql<{ table_name: string; has_tenant: boolean }>`
      SELECT t.table_name, bool_or(c.column_name = 'tenant_id') AS has_tenant
      FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, table_name)
      WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'
      GROUP BY t.table_name`.execute(database.db);
    const ours = rows.filter((row) => !MIGRATOR_TABLES.includes(row.table_name));
    expect(ours.length).toBeGreaterThanOrEqual(7);
    // The one exception counts what the deployment hands its relay per moment (SMTP_MAX_PER_SECOND),
    // shared by every tenant and holding no tenant's data.
    expect(ours.filter((row) => !row.has_tenant).map((row) => row.table_name)).toEqual(['smtp_send_slots']);
  });

  it('every index leads with tenant_id, but lookups that must find the tenant: the slug, the review-link exchange, inbound mail', async () => {
    const { rows } = await sql<{ indexname: string; indexdef: string; tablename: string }>`
      SELECT indexname, indexdef, tablename FROM pg_indexes WHERE schemaname = 'public'`.execute(database.db);
    const offenders = rows
      .filter((row) => !MIGRATOR_TABLES.includes(row.tablename))
      .filter((row) => !/\(tenant_id[,)]/.test(row.indexdef))
      .map((row) => row.indexname);
    // Each of these starts from something that names no tenant and finds it: a slug, a review
    // link's secret (its hash), and mail coming back (our message id in a reply token, a
    // Message-ID in In-Reply-To, a sender's address). Inbound mail that matches nothing has no
    // tenant at all.
    expect(offenders.sort()).toEqual([
      'follow_up_steps_recipient_email',
      'inbound_messages_pending',
      'inbound_messages_pkey',
      'inbound_messages_provider',
      'messages_id',
      'messages_message_id_header',
      'review_links_secret_sha256',
      'smtp_send_slots_pkey',
      'tenants_slug_key',
    ]);
  });

  it('audit events are append-only', async () => {
    const tenantId = '01a20000-0000-7000-8000-000000000001';
    await sql`INSERT INTO tenants (tenant_id, slug, name, sending_address) VALUES (${tenantId}, 'append-only', 'x', 'x@example.com')`.execute(database.db);
    await sql`INSERT INTO audit_events (tenant_id, id, actor, action, entity_type, entity_id) VALUES (${tenantId}, ${tenantId}, 'test', 'test', 'tenant', ${tenantId})`.execute(database.db);
    await expect(sql`UPDATE audit_events SET action = 'rewritten'`.execute(database.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_events`.execute(database.db)).rejects.toThrow(/append-only/);
  });
});

describe('embedded data directory', () => {
  it('refuses a second opener while the first holds it, and allows one after it closes', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'afterview-lock-'));
    try {
      const first = await openDatabase({ dataDir });
      await expect(openDatabase({ dataDir })).rejects.toBeInstanceOf(DataDirectoryLockedError);
      await first.close();
      const second = await openDatabase({ dataDir });
      await second.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('generated resolver types', () => {
  it('match schema.graphql (run `npm run codegen` after editing the schema)', async () => {
    const [output] = await generate({ ...config, silent: true }, false);
    const committed = fs.readFileSync(Object.keys(config.generates)[0]!, 'utf8');
    expect(output!.content).toBe(committed);
  });
});
