import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { LogEvent } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { type DatabaseHandle, type DatabaseKind, openDatabase } from '../../src/db/database.js';

/** The databases integration tests run on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function testDatabaseKinds(): DatabaseKind[] {
  return inject('postgresTemplateUrl') ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase extends DatabaseHandle {
  /** Connection string of the fresh PostgreSQL database (undefined on PGlite). */
  url: string | undefined;
}

/** A freshly migrated, empty database of its own for one test file (or one describe block). */
export async function openTestDatabase(
  kind: DatabaseKind,
  options: { onQuery?: (event: LogEvent) => void; poolSize?: number } = {},
): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const image = new Blob([fs.readFileSync(inject('pgliteImagePath'))]);
    const handle = await openDatabase({ pgliteImage: image, onQuery: options.onQuery });
    return { ...handle, url: undefined };
  }
  const templateUrl = inject('postgresTemplateUrl');
  if (!templateUrl) throw new Error('PostgreSQL tests need TEST_DATABASE_URL');
  const name = `afterview_test_${randomBytes(6).toString('hex')}`;
  const adminUrl = new URL(templateUrl);
  adminUrl.pathname = '/postgres';
  const template = new URL(templateUrl).pathname.slice(1);
  await withAdmin(adminUrl.toString(), (admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const url = new URL(templateUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), onQuery: options.onQuery, poolSize: options.poolSize });
  return {
    ...handle,
    url: url.toString(),
    close: async () => {
      await handle.close();
      await withAdmin(adminUrl.toString(), (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
