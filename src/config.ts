import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import type { DatabaseTimeouts } from './db/database.js';

// Every setting comes from the environment (twelve-factor); absent ones fall back to the
// embedded defaults that let `npm start` run on a laptop with nothing else installed.

export type RunMode = 'all' | 'api' | 'worker' | 'inbound';

export interface Config {
  port: number;
  host: string;
  /** `undefined`: embedded PGlite under `dataDir` (or in memory with `memory://`). */
  databaseUrl: string | undefined;
  dataDir: string;
  /** `undefined`: messages are written as .eml files under `dataDir/outbox`. */
  smtpUrl: string | undefined;
  /** From JWT_SECRET; when absent, `resolveJwtSecret` makes up a development one. */
  jwtSecret: string | undefined;
  /** From ENCRYPTION_KEY (a ring, first encrypts); when absent, `resolveEncryptionKey` makes up a development one. */
  encryptionKey: string | undefined;
  workerCron: string;
  webhookAllowPrivate: boolean;
  logLevel: string;
  production: boolean;
  /** Domain for tenants' default sending addresses (`<slug>@<mailDomain>`). */
  mailDomain: string;
  worker: {
    batchSize: number;
    leaseMs: number;
    heartbeatMs: number;
    sendConcurrency: number;
    handoverWindow: number;
    relayProbeMaxMs: number;
    /** SMTP_MAX_PER_SECOND: messages handed to the relay per second by all worker processes together; undefined: no limit. */
    smtpMaxPerSecond: number | undefined;
  };
  /** PostgreSQL: connect, statement and idle-in-transaction timeouts. */
  databaseTimeouts: DatabaseTimeouts;
  /** GraphQL introspection and GraphiQL: on in development, off in production unless asked for. */
  graphqlIntrospection: boolean;
  rateLimitPerMinute: number;
  rateLimitPerCallerPerMinute: number;
  rateLimitUnauthenticatedPerMinute: number;
  corsOrigins: string[];
  /** PUBLIC_URL: where partners' candidates reach this service (the base of review links). */
  publicUrl: string;
  inbound: InboundConfig;
}

/** Mail coming back (replies, auto-replies, bounces): see src/inbound. */
export interface InboundConfig {
  /** Outgoing mail carries reply+<token>@ and bounce+<token>@ this domain. */
  domain: string;
  /**
   * Whether outgoing mail is addressed back to the service. Off only in production when
   * INBOUND_DOMAIN is not set: the default .localhost domain takes no mail from the internet,
   * and replies must never be lost to it.
   */
  trackReplies: boolean;
  /** The SMTP listener's port on HOST; 0 turns it off. */
  smtpPort: number;
  smtpMaxConnections: number;
  /** Secrets for reply tokens (first signs, all verify); absent: derived from JWT_SECRET's. */
  tokenSecrets: string[] | undefined;
  /** HTTP basic auth of the Postmark, SendGrid and raw routes (both unset: those routes answer 401). */
  webhookUser: string | undefined;
  webhookPassword: string | undefined;
  mailgunSigningKey: string | undefined;
  /** PEM file of the certificate(s) SNS signs with, pinned (no certificate is fetched at run time). */
  snsCertificateFile: string | undefined;
}

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .min(1)
    .refine((url) => url === 'memory://' || /^postgres(ql)?:\/\/./.test(url), 'must be postgres://… (or memory:// for an in-memory database)')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  SMTP_URL: z
    .string()
    .min(1)
    .refine((url) => /^smtps?:\/\/[^/\s]/.test(url) && URL.canParse(url), 'must be smtp://host:port or smtps://host:port')
    .optional(),
  JWT_SECRET: z
    .string()
    .min(16, 'JWT_SECRET must be at least 16 characters')
    .refine((value) => value.split(',').every((secret) => secret.trim().length >= 16), 'JWT_SECRET: every secret of the comma-separated ring must be at least 16 characters')
    .optional(),
  ENCRYPTION_KEY: z
    .string()
    .refine(
      (value) => value.split(',').every((key) => Buffer.from(key.trim(), 'base64').length === 32),
      'ENCRYPTION_KEY must be one or more comma-separated base64 keys of 32 bytes each (e.g. `openssl rand -base64 32`)',
    )
    .optional(),
  WORKER_CRON: z
    .string()
    .min(1)
    .refine((expression) => cron.validate(expression), 'is not a valid cron expression (five or six fields, seconds first when six)')
    .default('*/15 * * * * *'),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().optional(),
  MAIL_DOMAIN: z.string().min(1).default('afterview.localhost'),
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(200),
  WORKER_LEASE_SECONDS: z.coerce.number().int().min(2).max(3600).default(20),
  WORKER_HEARTBEAT_SECONDS: z.coerce.number().positive().optional(),
  WORKER_RELAY_PROBE_MAX_SECONDS: z.coerce.number().positive().max(3600).default(30),
  WORKER_SEND_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(32),
  // One per connection of the SMTP pool (5): each connection waits for the relay's answer to one
  // message at a time, so a wider window buys nothing and a narrower one idles connections while
  // the relay thinks (window 1 at 50 ms per answer is about 20 messages/s). A kill -9 sends at
  // most this many messages twice, each under its own Message-ID.
  WORKER_HANDOVER_WINDOW: z.coerce.number().int().min(1).max(200).default(5),
  SMTP_MAX_PER_SECOND: z.coerce
    .number()
    .int('SMTP_MAX_PER_SECOND must be a whole number of messages per second')
    .min(1, 'SMTP_MAX_PER_SECOND must be at least 1 (leave it unset for no limit)')
    .max(100_000)
    .optional(),
  GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  RATE_LIMIT_PER_CALLER_PER_MINUTE: z.coerce.number().int().min(0).default(3000),
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  CORS_ORIGINS: z.string().default(''),
  PUBLIC_URL: z
    .string()
    .refine((url) => /^https?:\/\/[^/\s]/.test(url) && URL.canParse(url), 'must be http(s)://host[:port][/path], where candidates reach this service')
    .optional(),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  INBOUND_DOMAIN: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i, 'INBOUND_DOMAIN must be a domain name')
    .default('in.afterview.localhost'),
  INBOUND_SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(2525),
  INBOUND_SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(100),
  INBOUND_TOKEN_SECRET: z.string().min(16, 'INBOUND_TOKEN_SECRET must be at least 16 characters').optional(),
  INBOUND_WEBHOOK_USER: z.string().min(1).optional(),
  INBOUND_WEBHOOK_PASSWORD: z.string().min(12, 'INBOUND_WEBHOOK_PASSWORD must be at least 12 characters').optional(),
  MAILGUN_SIGNING_KEY: z.string().min(1).optional(),
  SNS_SIGNING_CERT_FILE: z.string().min(1).optional(),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // Every problem at once, each naming its variable: fixing them one start at a time is tedious.
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    // A generated secret, a dev tenant and a token in the log are conveniences for a laptop; in
    // production they would be a hole.
    throw new Error('Invalid configuration: JWT_SECRET: required when NODE_ENV=production (at least 16 characters)');
  }
  const databaseUrl = e.DATABASE_URL === 'memory://' ? undefined : e.DATABASE_URL;
  // The heartbeat must beat at least twice within a lease, so one late beat loses nothing.
  const heartbeatSeconds = e.WORKER_HEARTBEAT_SECONDS ?? e.WORKER_LEASE_SECONDS / 4;
  if (heartbeatSeconds > e.WORKER_LEASE_SECONDS / 2) {
    throw new Error('Invalid configuration: WORKER_HEARTBEAT_SECONDS: must be at most half of WORKER_LEASE_SECONDS');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl,
    dataDir: e.DATABASE_URL === 'memory://' || e.DATA_DIR === 'memory://' ? 'memory://' : path.resolve(e.DATA_DIR),
    smtpUrl: e.SMTP_URL,
    jwtSecret: e.JWT_SECRET,
    encryptionKey: e.ENCRYPTION_KEY,
    workerCron: e.WORKER_CRON,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
    logLevel: e.LOG_LEVEL,
    production: e.NODE_ENV === 'production',
    mailDomain: e.MAIL_DOMAIN,
    worker: {
      batchSize: e.WORKER_BATCH_SIZE,
      leaseMs: e.WORKER_LEASE_SECONDS * 1000,
      heartbeatMs: heartbeatSeconds * 1000,
      sendConcurrency: e.WORKER_SEND_CONCURRENCY,
      handoverWindow: e.WORKER_HANDOVER_WINDOW,
      relayProbeMaxMs: e.WORKER_RELAY_PROBE_MAX_SECONDS * 1000,
      smtpMaxPerSecond: e.SMTP_MAX_PER_SECOND,
    },
    databaseTimeouts: {
      connectMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    graphqlIntrospection: e.GRAPHQL_INTROSPECTION ? e.GRAPHQL_INTROSPECTION === 'true' : e.NODE_ENV !== 'production',
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitPerCallerPerMinute: e.RATE_LIMIT_PER_CALLER_PER_MINUTE,
    rateLimitUnauthenticatedPerMinute: e.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE,
    corsOrigins: e.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
    publicUrl: (e.PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(/\/+$/, ''),
    inbound: {
      domain: e.INBOUND_DOMAIN.toLowerCase(),
      trackReplies: env.INBOUND_DOMAIN !== undefined || e.NODE_ENV !== 'production',
      smtpPort: e.INBOUND_SMTP_PORT,
      smtpMaxConnections: e.INBOUND_SMTP_MAX_CONNECTIONS,
      tokenSecrets: e.INBOUND_TOKEN_SECRET?.split(',').map((secret) => secret.trim()).filter(Boolean),
      webhookUser: e.INBOUND_WEBHOOK_USER,
      webhookPassword: e.INBOUND_WEBHOOK_PASSWORD,
      mailgunSigningKey: e.MAILGUN_SIGNING_KEY,
      snsCertificateFile: e.SNS_SIGNING_CERT_FILE,
    },
  };
}

export interface JwtSecret {
  secret: string;
  /** Where a development secret was made up (and kept, so tokens survive a restart). */
  origin: 'environment' | 'generated' | 'data-dir';
  file?: string;
}

/**
 * Without JWT_SECRET, a development secret is kept in the data directory so that tokens the
 * CLI prints stay valid for the server and across restarts. In memory it lives as long as
 * the process.
 */
/** Where .eml files go without SMTP_URL: beside the data, or a temporary folder for memory://. */
export function outboxDirectory(config: Config): string {
  return config.dataDir === 'memory://' ? path.join(os.tmpdir(), 'afterview-outbox') : path.join(config.dataDir, 'outbox');
}

export function resolveJwtSecret(config: Config): JwtSecret {
  if (config.jwtSecret) return { secret: config.jwtSecret, origin: 'environment' };
  if (config.dataDir === 'memory://') return { secret: randomBytes(32).toString('base64url'), origin: 'generated' };
  const file = path.join(config.dataDir, 'jwt-secret');
  try {
    return { secret: fs.readFileSync(file, 'utf8').trim(), origin: 'data-dir', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  fs.mkdirSync(config.dataDir, { recursive: true });
  fs.writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return { secret, origin: 'generated', file };
}

export interface EncryptionKey {
  /** The ring as ENCRYPTION_KEY writes it: comma-separated base64 keys, the first encrypts. */
  keys: string;
  origin: 'environment' | 'generated' | 'data-dir';
  file?: string;
}

/**
 * Like the JWT secret: in development a key is made up and kept in the data directory (in
 * memory, for the process only); in production ENCRYPTION_KEY is required.
 */
export function resolveEncryptionKey(config: Config): EncryptionKey {
  if (config.encryptionKey) return { keys: config.encryptionKey, origin: 'environment' };
  if (config.production) throw new Error('Invalid configuration: ENCRYPTION_KEY is required in production (e.g. `openssl rand -base64 32`)');
  if (config.dataDir === 'memory://') return { keys: randomBytes(32).toString('base64'), origin: 'generated' };
  const file = path.join(config.dataDir, 'encryption-key');
  try {
    return { keys: fs.readFileSync(file, 'utf8').trim(), origin: 'data-dir', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const keys = randomBytes(32).toString('base64');
  fs.mkdirSync(config.dataDir, { recursive: true });
  fs.writeFileSync(file, keys + '\n', { mode: 0o600, flag: 'wx' });
  return { keys, origin: 'generated', file };
}
