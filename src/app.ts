import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './db/schema.js';
import { DEFAULT_GRAPHQL_LIMITS, type GraphQLLimits } from './graphql/limits.js';
import { graphqlRoutes } from './graphql/plugin.js';
import { auth } from './http/auth.js';
import { installRestErrorHandler } from './http/errors.js';
import { healthRoutes, metricsRoute } from './http/health.js';
import { openapi } from './http/openapi.js';
import { v1CandidateRoutes } from './http/v1-candidates.js';
import { v1EventRoutes } from './http/v1-events.js';
import { v1InterviewRoutes } from './http/v1-interviews.js';
import { v1ReadRoutes } from './http/v1-reads.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { ServiceContext } from './services/context.js';
import { createEnglishSpellChecker } from './services/spell-checker.js';

export interface AppOptions {
  db: Kysely<Database>;
  jwtSecret: string;
  /** Tests pass a fixed clock; the service uses the wall clock. */
  clock?: () => Date;
  logger?: Logger | false;
  /** Introspection and GraphiQL (development by default). */
  introspection?: boolean;
  /** WEBHOOK_ALLOW_PRIVATE, and https-only targets in production. */
  webhooks?: { allowPrivate: boolean; requireHttps: boolean };
  /** Requests per minute per tenant (per address before authentication); 0 turns the limit off. */
  rateLimitPerMinute?: number;
  /** Origins allowed to call from a browser; empty: no CORS headers at all. */
  corsOrigins?: string[];
  graphqlLimits?: Partial<Omit<GraphQLLimits, 'introspection'>>;
  metrics?: Metrics;
  /** Where sandbox tenants' mail is kept as `.eml` copies (DATA_DIR/outbox); absent: no copies. */
  sandboxOutboxDir?: string;
  /** MAIL_DOMAIN, for tenants created over HTTP. */
  mailDomain?: string;
}

export const BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6_000;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A caller's own request id is kept when it is a sane token; otherwise we make one. */
function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Request logs carry the method and path, never the query string (it may hold variables). */
const requestSerializer = (request: FastifyRequest) => ({ method: request.method, url: request.url.split('?')[0], reqId: request.id });

/** Builds the HTTP application without listening (tests inject requests; server.ts listens). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger ? options.logger.child({}, { serializers: { req: requestSerializer } }) : undefined,
    logger: options.logger ? undefined : false,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdOf,
  }) as unknown as FastifyInstance;
  const services: ServiceContext = {
    db: options.db,
    clock: options.clock ?? (() => new Date()),
    spell: createEnglishSpellChecker(),
    webhooks: options.webhooks ?? { allowPrivate: false, requireHttps: false },
    ...(options.sandboxOutboxDir ? { sandboxOutboxDir: options.sandboxOutboxDir } : {}),
    ...(options.mailDomain ? { mailDomain: options.mailDomain } : {}),
  };
  const metrics = options.metrics ?? createMetrics(options.db);

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  installRestErrorHandler(app);
  if (options.corsOrigins?.length) await app.register(cors, { origin: options.corsOrigins, maxAge: 600 });
  await app.register(openapi);
  await app.register(auth, { secret: options.jwtSecret, db: options.db });
  const perMinute = options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
  if (perMinute > 0) {
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: '1 minute',
      // After authentication, so the budget is the tenant's, shared by all its callers.
      hook: 'preHandler',
      keyGenerator: (request) => (request.caller ? `tenant:${request.caller.tenantId}` : `ip:${request.ip}`),
      // Thrown, then answered by the REST or GraphQL error handler in its own shape (429 with Retry-After).
      errorResponseBuilder: (_request, context) =>
        Object.assign(new Error(`rate limit of ${context.max} requests per minute reached; retry in ${Math.ceil(context.ttl / 1000)} s`), {
          statusCode: 429,
          code: 'RATE_LIMITED',
        }),
    });
  }
  await app.register(healthRoutes, { db: options.db });
  await app.register(metricsRoute, { metrics });
  await app.register(v1InterviewRoutes, { services });
  await app.register(v1EventRoutes, { services });
  await app.register(v1CandidateRoutes, { services });
  await app.register(v1ReadRoutes, { services });
  await app.register(graphqlRoutes, {
    services,
    metrics,
    limits: { ...DEFAULT_GRAPHQL_LIMITS, ...options.graphqlLimits, introspection: options.introspection ?? false },
  });
  return app;
}

/** For a worker-only process: health and metrics, nothing a partner calls. */
export async function buildOperationsApp(options: { db: Kysely<Database>; logger?: Logger; metrics: Metrics }): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.logger, genReqId: requestIdOf }) as unknown as FastifyInstance;
  await app.register(healthRoutes, { db: options.db });
  await app.register(metricsRoute, { metrics: options.metrics });
  return app;
}
