import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './db/schema.js';
import { DEFAULT_GRAPHQL_LIMITS, type GraphQLLimits } from './graphql/limits.js';
import { graphqlRoutes } from './graphql/plugin.js';
import { auth } from './http/auth.js';
import { installRestErrorHandler } from './http/errors.js';
import { graphiqlRoutes } from './http/graphiql.js';
import { healthRoutes, metricsRoute } from './http/health.js';
import { inputGuard } from './http/input-guard.js';
import { openapi } from './http/openapi.js';
import { DEFAULT_RATE_LIMITS, rateLimits } from './http/rate-limits.js';
import { v1CandidateRoutes } from './http/v1-candidates.js';
import { v1EventRoutes } from './http/v1-events.js';
import { type InboundRouteOptions, v1InboundRoutes } from './http/v1-inbound.js';
import { v1InterviewRoutes } from './http/v1-interviews.js';
import { v1DebriefRoutes } from './http/v1-debrief.js';
import { reviewPageRoutes } from './http/review-page.js';
import { v1ReadRoutes } from './http/v1-reads.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createTenantAccessCache } from './security/tenant-access.js';
import type { ServiceContext } from './services/context.js';
import { createEnglishSpellChecker } from './services/spell-checker.js';
import { keyRingOf } from './services/tokens.js';

export interface AppOptions {
  db: Kysely<Database>;
  /** JWT_SECRET: one secret or a comma-separated ring (the first signs, all verify). */
  jwtSecret: string;
  /** The per-replica cache of tenants' access facts (revocations, disabled, keys); tests move its clock. */
  tenantAccess?: { ttlMs?: number; now?: () => number };
  /** Tests pass a fixed clock; the service uses the wall clock. */
  clock?: () => Date;
  logger?: Logger | false;
  /** Introspection and GraphiQL (development by default). */
  introspection?: boolean;
  /** WEBHOOK_ALLOW_PRIVATE, and https-only targets in production. */
  webhooks?: { allowPrivate: boolean; requireHttps: boolean };
  /** Requests per minute per tenant (per address on routes that need no token); 0 turns the limit off. */
  rateLimitPerMinute?: number;
  /** Requests per minute per caller (tenant and sub); 0 turns the limit off. */
  rateLimitPerCallerPerMinute?: number;
  /** Requests per minute per address that fail authentication, before further ones are refused unread; 0: off. */
  rateLimitUnauthenticatedPerMinute?: number;
  /** NODE_ENV=production: GET /graphql off, no "Did you mean" suggestions in GraphQL errors. */
  production?: boolean;
  /** Origins allowed to call from a browser; empty: no CORS headers at all. */
  corsOrigins?: string[];
  graphqlLimits?: Partial<Omit<GraphQLLimits, 'introspection'>>;
  metrics?: Metrics;
  /** Provider routes for inbound mail (credentials; absent ones answer 401) and a kick after each stored message. */
  inbound?: InboundRouteOptions;
  /** PUBLIC_URL: the base of links to the candidate's page. */
  publicUrl?: string;
  /** Where sandbox tenants' mail is kept as `.eml` copies (DATA_DIR/outbox); absent: no copies. */
  sandboxOutboxDir?: string;
  /** MAIL_DOMAIN, for tenants created over HTTP. */
  mailDomain?: string;
}

export const BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_RATE_LIMIT_PER_MINUTE = DEFAULT_RATE_LIMITS.perTenant;

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
  const keyRing = keyRingOf(options.jwtSecret);
  const access = createTenantAccessCache(options.db, options.tenantAccess);
  const services: ServiceContext = {
    db: options.db,
    clock: options.clock ?? (() => new Date()),
    spell: createEnglishSpellChecker(),
    webhooks: options.webhooks ?? { allowPrivate: false, requireHttps: false },
    security: { keyRing, access },
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
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
  // Before anything that reads a request: the address limit refuses a flood of bad tokens
  // unread, and the input guard refuses NUL characters and deep nesting wherever they are.
  await app.register(rateLimits, {
    perTenant: options.rateLimitPerMinute ?? DEFAULT_RATE_LIMITS.perTenant,
    perCaller: options.rateLimitPerCallerPerMinute ?? DEFAULT_RATE_LIMITS.perCaller,
    unauthenticatedPerAddress: options.rateLimitUnauthenticatedPerMinute ?? DEFAULT_RATE_LIMITS.unauthenticatedPerAddress,
  });
  await app.register(inputGuard);
  await app.register(openapi);
  await app.register(auth, { keyRing, access });
  await app.register(healthRoutes, { db: options.db });
  await app.register(metricsRoute, { metrics });
  await app.register(v1InterviewRoutes, { services });
  await app.register(v1DebriefRoutes, { services });
  await app.register(v1EventRoutes, { services });
  await app.register(reviewPageRoutes, { services });
  // GraphiQL needs introspection: both are for development unless enabled on purpose.
  if (options.introspection) await app.register(graphiqlRoutes);
  await app.register(v1InboundRoutes, { domain: 'in.afterview.localhost', ...options.inbound, db: options.db, clock: services.clock });
  await app.register(v1CandidateRoutes, { services });
  await app.register(v1ReadRoutes, { services });
  await app.register(graphqlRoutes, {
    services,
    metrics,
    limits: { ...DEFAULT_GRAPHQL_LIMITS, ...options.graphqlLimits, introspection: options.introspection ?? false },
    production: options.production ?? false,
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
