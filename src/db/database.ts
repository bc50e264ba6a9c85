import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type LogEvent } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import type { Database } from './schema.js';
import { parseTimestamptz } from './timestamps.js';

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseKind;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://… for PostgreSQL; absent for embedded PGlite. */
  url?: string | undefined;
  /** PGlite's directory, or `memory://`. */
  dataDir?: string;
  /** A pre-migrated PGlite image (from `dumpDataDir`), the fast way to a fresh test database. */
  pgliteImage?: Blob;
  poolSize?: number;
  /** Sees every executed query (tests count them; metrics time them). */
  onQuery?: (event: LogEvent) => void;
}

export class DataDirectoryLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `The data directory ${dataDir} is in use by another Afterview process. ` +
        'The embedded database allows one process at a time: stop the other one, or set DATA_DIR ' +
        'to another directory, or use PostgreSQL with DATABASE_URL.',
    );
  }
}

// Timestamps come back as Date and bigints as strings from pg; PGlite gives Date and number.
// Services never rely on bigint columns beyond ordering, so both are fine.

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) return openPostgres(options.url, options);
  return openPglite(options);
}

// Every pool in the process reads timestamptz with the fast parser (see timestamps.ts).
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, parseTimestamptz);

function openPostgres(url: string, options: OpenDatabaseOptions): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle client losing its server (a restart, a failover) must not crash the process;
  // the pool drops it and the next query gets a fresh connection.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: options.onQuery });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

async function openPglite(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const dataDir = options.dataDir ?? 'memory://';
  const inMemory = dataDir === 'memory://';
  let release: (() => Promise<void>) | undefined;
  if (!inMemory) {
    fs.mkdirSync(dataDir, { recursive: true });
    release = await lockDataDirectory(dataDir);
  }
  try {
    const pglite = await PGlite.create(inMemory ? undefined : path.join(dataDir, 'pgdata'), {
      loadDataDir: options.pgliteImage,
    });
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), log: options.onQuery });
    return {
      db,
      kind: 'pglite',
      close: async () => {
        await db.destroy();
        await release?.();
      },
    };
  } catch (error) {
    await release?.();
    throw error;
  }
}

// PGlite has no lock of its own and a second process on the same files corrupts them, so we
// hold one: a lock directory refreshed while we live. PGlite's WebAssembly work can block the
// event loop for seconds (a first start runs initdb), so the refresh is lazy and the stale
// threshold generous; a lock left by a crashed process on this host is recognised at once by
// its recorded pid instead of by age.
const LOCK_NAME = 'afterview.lock';
const OWNER_FILE = 'afterview.lock.owner';

async function lockDataDirectory(dataDir: string): Promise<() => Promise<void>> {
  const lockfilePath = path.join(dataDir, LOCK_NAME);
  const options = {
    lockfilePath,
    stale: 60_000,
    update: 10_000,
    realpath: false,
    onCompromised: (error: Error) => {
      // Someone removed or took over our lock: carrying on would risk the data files.
      console.error(`Lost the lock on ${dataDir}: ${error.message}. Exiting to protect the data.`);
      process.exit(1);
    },
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    if (!ownerIsGone(dataDir)) throw new DataDirectoryLockedError(dataDir);
    fs.rmSync(lockfilePath, { recursive: true, force: true });
    try {
      release = await lockfile.lock(dataDir, options);
    } catch {
      throw new DataDirectoryLockedError(dataDir);
    }
  }
  fs.writeFileSync(path.join(dataDir, OWNER_FILE), JSON.stringify({ pid: process.pid, host: os.hostname() }));
  return async () => {
    fs.rmSync(path.join(dataDir, OWNER_FILE), { force: true });
    await release();
  };
}

/** True when the lock's recorded owner was a process on this host that no longer runs. */
function ownerIsGone(dataDir: string): boolean {
  let owner: { pid?: unknown; host?: unknown };
  try {
    owner = JSON.parse(fs.readFileSync(path.join(dataDir, OWNER_FILE), 'utf8'));
  } catch {
    return false;
  }
  if (owner.host !== os.hostname() || typeof owner.pid !== 'number' || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
