import { parseArgs } from 'node:util';
import { buildApp, buildOperationsApp } from './app.js';
import { loadConfig, outboxDirectory, resolveJwtSecret, type RunMode } from './config.js';
import { DataDirectoryLockedError, openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { ensureDevelopmentTenant } from './services/development.js';
import { mintOperatorToken, removeOperatorAccess, writeOperatorAccess } from './services/operator-access.js';
import { createMailer, type Mailer } from './mail/mailer.js';
import { createEnglishSpellChecker } from './services/spell-checker.js';
import { closeWebhookAgents } from './webhooks/http-delivery.js';
import { runWorkerTick } from './worker/tick.js';
import { startWorker, type WorkerHandle } from './worker/worker.js';

// The process: open the database, migrate, listen and/or run the worker, and close it all
// cleanly on SIGTERM. Everything else is built by buildApp() and the worker module.

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mode: { type: 'string', default: 'all' } } });
  const mode = values.mode as RunMode;
  if (!['all', 'api', 'worker'].includes(mode)) throw new Error(`--mode must be all, api or worker, not ${mode}`);

  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const jwt = resolveJwtSecret(config);

  let database;
  try {
    database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  } catch (error) {
    if (error instanceof DataDirectoryLockedError) {
      log.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
  const applied = await migrateToLatest(database.db);
  log.info({ database: database.kind, applied: applied.results?.length ?? 0 }, 'migrations applied');

  let worker: WorkerHandle | undefined;
  let operatorAccessDir: string | undefined;
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  const metrics = createMetrics(database.db);

  if (mode === 'worker') {
    // A worker has no API, but an operator still probes and scrapes it.
    app = await buildOperationsApp({ db: database.db, logger: log, metrics });
    await app.listen({ port: config.port, host: config.host });
  } else {
    app = await buildApp({
      db: database.db,
      jwtSecret: jwt.secret,
      logger: log,
      metrics,
      introspection: config.graphqlIntrospection,
      rateLimitPerMinute: config.rateLimitPerMinute,
      corsOrigins: config.corsOrigins,
      webhooks: { allowPrivate: config.webhookAllowPrivate, requireHttps: config.production },
      sandboxOutboxDir: outboxDirectory(config),
      mailDomain: config.mailDomain,
    });
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    if (database.kind === 'pglite' && config.dataDir !== 'memory://') {
      // The CLI cannot open the data directory while we hold it: it asks us instead (README, Operations).
      operatorAccessDir = config.dataDir;
      writeOperatorAccess(config.dataDir, { url, token: mintOperatorToken(jwt.secret) });
    }
    if (jwt.origin === 'environment') {
      log.info(`Afterview API on ${url}/graphql (REST docs at ${url}/docs). Get a token with: npm run cli -- tenant create <slug>`);
    } else {
      // Development only (no JWT_SECRET): a ready-made tenant and token so the first request works.
      const dev = await ensureDevelopmentTenant(database.db, jwt.secret, config.mailDomain);
      log.warn(
        `No JWT_SECRET set: using a development secret${jwt.file ? ` kept in ${jwt.file}` : ' for this process only'}. Set JWT_SECRET in production.`,
      );
      log.info(`Afterview API on ${url}/graphql (REST docs at ${url}/docs). Development token for tenant ${dev.slug}: ${dev.token}`);
    }
  }

  let mailer: Mailer | undefined;
  if (mode !== 'api') {
    const workerLog = log.child({ component: 'worker' });
    mailer = createMailer({ smtpUrl: config.smtpUrl, outboxDir: outboxDirectory(config), log: workerLog, closeGraceMs: 5_000 });
    const deps = {
      db: database.db,
      mailer,
      spell: createEnglishSpellChecker(),
      clock: () => new Date(),
      log: workerLog,
      settings: config.worker,
      webhooks: { allowPrivate: config.webhookAllowPrivate, requireHttps: config.production },
      metrics,
    };
    worker = startWorker({
      schedule: config.workerCron,
      log: workerLog,
      tick: (signal) => runWorkerTick(deps, signal),
      onTickDone: (ms) => metrics.workerTickDuration.observe(ms / 1000),
    });
    log.info({ mail: mailer.kind, ...(mailer.kind === 'eml' ? { outbox: outboxDirectory(config) } : {}) }, 'worker ready');
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      log.error('shutdown took longer than 10 s; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    await worker?.stop();
    await mailer?.close();
    await closeWebhookAgents();
    await app?.close();
    if (operatorAccessDir) removeOperatorAccess(operatorAccessDir);
    await database.close();
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // Startup failures are configuration problems: say what, without a stack for the usual ones.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
