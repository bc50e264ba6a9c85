import { parseArgs } from 'node:util';
import { buildApp, buildOperationsApp } from './app.js';
import { loadConfig, outboxDirectory, resolveEncryptionKey, resolveJwtSecret, type RunMode } from './config.js';
import { DataDirectoryLockedError, type Listening, openDatabase } from './db/database.js';
import { WORK_CHANNEL } from './db/work-signals.js';
import { migrateToLatest } from './db/migrate.js';
import { createLogger, errorForLog } from './logger.js';
import { createMetrics } from './metrics.js';
import { sealStoredSecrets } from './security/seal-stored-secrets.js';
import { ensureDevelopmentTenant } from './services/development.js';
import { type InboundProcessor, startInboundProcessor } from './inbound/processor.js';
import { type InboundAddressing, replyTokenKeys } from './inbound/reply-token.js';
import { type InboundSmtpListener, startInboundSmtp } from './inbound/smtp-listener.js';
import { type InboundDependencies, storeInboundMessage } from './services/inbound-mail.js';
import { mintOperatorToken, removeOperatorAccess, writeOperatorAccess } from './services/operator-access.js';
import { createMailer, type Mailer } from './mail/mailer.js';
import { createEnglishSpellChecker } from './services/spell-checker.js';
import { createDkimKeys } from './services/sending-domains.js';
import { closeWebhookAgents } from './webhooks/http-delivery.js';
import { createRelayBreaker } from './mail/relay-breaker.js';
import { createSendRateLimit } from './services/send-rate.js';
import { workerLanes } from './worker/tick.js';
import { startWorker, type WorkerHandle } from './worker/worker.js';

// The process: open the database, migrate, listen and/or run the worker, and close it all
// cleanly on SIGTERM. Everything else is built by buildApp() and the worker module.

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mode: { type: 'string', default: 'all' } } });
  const mode = values.mode as RunMode;
  if (!['all', 'api', 'worker', 'inbound'].includes(mode)) throw new Error(`--mode must be all, api, worker or inbound, not ${mode}`);

  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const jwt = resolveJwtSecret(config);
  const encryption = resolveEncryptionKey(config);
  // Reply and bounce addresses of outgoing mail, read back by the inbound listener and routes.
  const addressing: InboundAddressing = { domain: config.inbound.domain, keys: replyTokenKeys(config.inbound.tokenSecrets ?? jwt.secret.split(',')) };
  if (!config.inbound.trackReplies) log.warn('INBOUND_DOMAIN is not set: replies go straight to candidates and are not read by the service (S1 only through recordReply)');

  let metrics: ReturnType<typeof createMetrics> | undefined;
  let database;
  try {
    database = await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      timeouts: config.databaseTimeouts,
      applicationName: `afterview-${mode}`,
      onConnectionError: (error) => {
        // The query that was running fails on its own and is answered 503 or retried by the
        // worker; this line only tells the operator why.
        log.warn(errorForLog(error), 'a database connection lost its server');
        metrics?.databaseConnectionsLost.inc();
      },
    });
  } catch (error) {
    if (error instanceof DataDirectoryLockedError) {
      log.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
  const applied = await migrateToLatest(database.db);
  log.info({ database: database.kind, applied: applied.results?.length ?? 0 }, 'migrations applied');
  // Secrets stored before sealing existed are sealed now (see migrations/0007-tokens-and-secrets.ts).
  const sealed = await sealStoredSecrets(database.db, encryption.keys);
  if (sealed > 0) log.info({ endpoints: sealed }, 'stored webhook secrets sealed under ENCRYPTION_KEY');
  if (encryption.origin !== 'environment') log.warn(`No ENCRYPTION_KEY set: using a development key${encryption.file ? ` kept in ${encryption.file}` : ' for this process only'}. Set ENCRYPTION_KEY in production.`);

  let worker: WorkerHandle | undefined;
  let wakeUps: Listening | undefined;
  let operatorAccessDir: string | undefined;
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let inboundProcessor: InboundProcessor | undefined;
  let inboundSmtp: InboundSmtpListener | undefined;
  let mailer: Mailer | undefined;

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
    await inboundSmtp?.close();
    await inboundProcessor?.stop();
    await wakeUps?.close();
    await worker?.stop();
    await mailer?.close();
    await closeWebhookAgents();
    await app?.close();
    if (operatorAccessDir) removeOperatorAccess(operatorAccessDir);
    await database.close();
    log.info('stopped');
    process.exit(0);
  };
  // Listening from here on: a stop asked for while the service still starts (an orchestrator's
  // SIGTERM) closes what has started so far, rather than killing the process mid-way.
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  metrics = createMetrics(database.db);

  const inboundDeps: InboundDependencies = { db: database.db, clock: () => new Date(), spell: createEnglishSpellChecker(), addressing, log: log.child({ component: 'inbound' }) };
  if (mode === 'worker' || mode === 'inbound') {
    // A worker (or the inbound listener alone) has no API, but an operator still probes and scrapes it.
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
      rateLimitPerCallerPerMinute: config.rateLimitPerCallerPerMinute,
      rateLimitUnauthenticatedPerMinute: config.rateLimitUnauthenticatedPerMinute,
      production: config.production,
      corsOrigins: config.corsOrigins,
      publicUrl: config.publicUrl,
      webhooks: { allowPrivate: config.webhookAllowPrivate, requireHttps: config.production },
      inbound: { ...config.inbound, onStored: () => inboundProcessor?.kick() },
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

  // Inbound mail: the SMTP listener stores each message before its 250; the processor handles it.
  if (mode === 'all' || mode === 'inbound') {
    inboundProcessor = startInboundProcessor(inboundDeps);
    if (config.inbound.smtpPort !== 0) {
      inboundSmtp = await startInboundSmtp({
        host: config.host,
        port: config.inbound.smtpPort,
        domain: config.inbound.domain,
        maxConnections: config.inbound.smtpMaxConnections,
        log: inboundDeps.log,
        store: async (message) => (await storeInboundMessage(database.db, { source: 'smtp', ...message }, new Date())).id!,
        onStored: () => inboundProcessor?.kick(),
      });
      log.info(`Inbound mail for @${config.inbound.domain} on smtp://${config.host}:${inboundSmtp.port}`);
    }
  }

  if (mode === 'all' || mode === 'worker') {
    const workerLog = log.child({ component: 'worker' });
    mailer = createMailer({ smtpUrl: config.smtpUrl, outboxDir: outboxDirectory(config), log: workerLog, closeGraceMs: 5_000 });
    // One breaker for the process: a relay outage seen by one dispatch holds back the next.
    const breaker = createRelayBreaker({
      maxProbeDelayMs: config.worker.relayProbeMaxMs,
      onChange: (state, previous) => {
        metrics.relayBreakerOpen.set(state === 'closed' ? 0 : 1);
        if (previous === 'closed') metrics.relayBreakerTrips.inc();
      },
    });
    metrics.relayBreakerOpen.set(0);
    const deps = {
      db: database.db,
      mailer,
      spell: createEnglishSpellChecker(),
      clock: () => new Date(),
      log: workerLog,
      settings: config.worker,
      webhooks: { allowPrivate: config.webhookAllowPrivate, requireHttps: config.production },
      metrics,
      breaker,
      addressing: config.inbound.trackReplies ? addressing : undefined,
      inbound: mode === 'worker' ? inboundDeps : undefined,
      dkimKeys: createDkimKeys(database.db),
      sendRate: config.worker.smtpMaxPerSecond ? createSendRateLimit(database.db, config.worker.smtpMaxPerSecond) : undefined,
    };
    worker = startWorker({
      schedule: config.workerCron,
      log: workerLog,
      lanes: workerLanes(deps),
      onTickDone: (ms, lane) => metrics.workerTickDuration.observe({ lane }, ms / 1000),
      onAvailability: (reachable) => metrics.workerPaused.set(reachable ? 0 : 1),
    });
    // Work an API call makes due now is taken at once, not at the next tick. Without the wake-ups
    // (the listening connection cannot be opened) the ticks still do everything, only later.
    const awake = worker;
    wakeUps = await database.listen(WORK_CHANNEL, (lane) => awake.wake(lane), () => awake.wakeAll()).catch((error: unknown) => {
      workerLog.warn(errorForLog(error), 'cannot listen for wake-ups; the worker runs on its schedule only');
      return undefined;
    });
    log.info({ mail: mailer.kind, ...(mailer.kind === 'eml' ? { outbox: outboxDirectory(config) } : {}) }, 'worker ready');
  }

}

main().catch((error: unknown) => {
  // Startup failures are configuration problems: say what, without a stack for the usual ones.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
