import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

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
  workerCron: string;
  webhookAllowPrivate: boolean;
  logLevel: string;
  production: boolean;
  /** Domain for tenants' default sending addresses (`<slug>@<mailDomain>`). */
  mailDomain: string;
  worker: { batchSize: number; leaseMs: number; sendConcurrency: number; handoverWindow: number };
  /** GraphQL introspection and GraphiQL: on in development, off in production unless asked for. */
  graphqlIntrospection: boolean;
  rateLimitPerMinute: number;
  corsOrigins: string[];
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
  DATABASE_URL: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  SMTP_URL: z.string().min(1).optional(),
  JWT_SECRET: z.string().min(16, 'JWT_SECRET must be at least 16 characters').optional(),
  WORKER_CRON: z.string().min(1).default('*/15 * * * * *'),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().optional(),
  MAIL_DOMAIN: z.string().min(1).default('afterview.localhost'),
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(200),
  WORKER_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  WORKER_SEND_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(32),
  WORKER_HANDOVER_WINDOW: z.coerce.number().int().min(1).max(200).default(1),
  GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  CORS_ORIGINS: z.string().default(''),
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
    const issue = parsed.error.issues[0]!;
    throw new Error(`Invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const databaseUrl = e.DATABASE_URL === 'memory://' ? undefined : e.DATABASE_URL;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl,
    dataDir: e.DATABASE_URL === 'memory://' || e.DATA_DIR === 'memory://' ? 'memory://' : path.resolve(e.DATA_DIR),
    smtpUrl: e.SMTP_URL,
    jwtSecret: e.JWT_SECRET,
    workerCron: e.WORKER_CRON,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
    logLevel: e.LOG_LEVEL,
    production: e.NODE_ENV === 'production',
    mailDomain: e.MAIL_DOMAIN,
    worker: {
      batchSize: e.WORKER_BATCH_SIZE,
      leaseMs: e.WORKER_LEASE_SECONDS * 1000,
      sendConcurrency: e.WORKER_SEND_CONCURRENCY,
      handoverWindow: e.WORKER_HANDOVER_WINDOW,
    },
    graphqlIntrospection: e.GRAPHQL_INTROSPECTION ? e.GRAPHQL_INTROSPECTION === 'true' : e.NODE_ENV !== 'production',
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    corsOrigins: e.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
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
