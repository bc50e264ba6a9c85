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
  /**
   * Calls `onPayload` for every NOTIFY on `channel` committed from now on (by any process, on
   * PostgreSQL). PostgreSQL listens on a connection of its own, outside the pool, opened again
   * when it is lost; `onReconnect` then says that notifications may have been missed meanwhile.
   */
  listen(channel: string, onPayload: (payload: string) => void, onReconnect?: () => void): Promise<Listening>;
  close(): Promise<void>;
}

export interface Listening {
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
  /** PostgreSQL only: how long to wait for a connection, a statement, an idle transaction. */
  timeouts?: Partial<DatabaseTimeouts>;
  /** PostgreSQL only: what the service's backends are called in pg_stat_activity. */
  applicationName?: string;
  /** PostgreSQL only: a connection lost under the service (failover, pg_terminate_backend). */
  onConnectionError?: (error: Error) => void;
  /** Sees every executed query (tests count them; metrics time them). */
  onQuery?: (event: LogEvent) => void;
}

export interface DatabaseTimeouts {
  /** Opening a connection (also how long a request waits for a pooled one). */
  connectMs: number;
  /** One statement, on the server (statement_timeout) and, with a margin, on the client. */
  statementMs: number;
  /** A transaction left open without a statement (idle_in_transaction_session_timeout). */
  idleInTransactionMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { connectMs: 5_000, statementMs: 30_000, idleInTransactionMs: 60_000 };

/** The client gives up this long after the server should have cancelled the statement itself. */
const CLIENT_QUERY_MARGIN_MS = 5_000;

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
  const timeouts = { ...DEFAULT_DATABASE_TIMEOUTS, ...options.timeouts };
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'afterview',
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    // A server that vanished without closing the socket (a failover, a dropped network) answers
    // nothing; the client stops waiting a little after the server would have cancelled.
    query_timeout: timeouts.statementMs + CLIENT_QUERY_MARGIN_MS,
    keepAlive: true,
  });
  const onConnectionError = options.onConnectionError ?? (() => {});
  // A connection can lose its server at any moment (a restart, a failover, pg_terminate_backend).
  // pg reports it as an 'error' event on the client and, for a client checked out at that moment,
  // nobody listens: Node would end the process. The query in flight fails on its own (and the
  // request answers 503); the pool drops the broken client when it comes back.
  pool.on('connect', (client) => client.on('error', onConnectionError));
  pool.on('error', onConnectionError);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: options.onQuery });
  return {
    db,
    kind: 'postgres',
    listen: (channel, onPayload, onReconnect) => listenOnPostgres(url, options, channel, onPayload, onReconnect),
    close: () => db.destroy(),
  };
}

/** How long a lost listening connection waits before it connects again. */
const LISTEN_RETRY_MS = 1_000;

async function listenOnPostgres(
  url: string,
  options: OpenDatabaseOptions,
  channel: string,
  onPayload: (payload: string) => void,
  onReconnect?: () => void,
): Promise<Listening> {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({
      connectionString: url,
      application_name: `${options.applicationName ?? 'afterview'}-listen`,
      connectionTimeoutMillis: options.timeouts?.connectMs ?? DEFAULT_DATABASE_TIMEOUTS.connectMs,
      keepAlive: true,
    });
    next.on('notification', (message) => {
      if (message.channel === channel) onPayload(message.payload ?? '');
    });
    // A lost connection (a restart, a failover) is opened again; meanwhile the ticks carry on.
    const lost = () => {
      if (closed || client !== next) return;
      client = undefined;
      void next.end().catch(() => {});
      scheduleRetry();
    };
    next.on('error', (error) => {
      options.onConnectionError?.(error);
      lost();
    });
    next.on('end', lost);
    client = next;
    await next.connect();
    await next.query(`LISTEN ${next.escapeIdentifier(channel)}`);
  };
  const scheduleRetry = () => {
    retry = setTimeout(() => {
      retry = undefined;
      connect().then(
        () => onReconnect?.(),
        () => {
          if (client) void client.end().catch(() => {});
          client = undefined;
          if (!closed) scheduleRetry();
        },
      );
    }, LISTEN_RETRY_MS);
    retry.unref();
  };
  // A database away at start does not stop the service: the listener connects when it is back.
  await connect().catch((error: unknown) => {
    options.onConnectionError?.(error as Error);
    void client?.end().catch(() => {});
    client = undefined;
    scheduleRetry();
  });
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
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
      // One process: PGlite hands a committed NOTIFY to the listeners of this same instance.
      listen: async (channel, onPayload) => {
        const unlisten = await pglite.listen(channel, onPayload);
        return { close: () => unlisten().catch(() => {}) };
      },
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
