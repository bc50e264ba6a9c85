import Fastify, { type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './db/schema.js';
import { graphqlRoutes } from './graphql/plugin.js';
import { auth } from './http/auth.js';
import { installRestErrorHandler } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { openapi } from './http/openapi.js';
import { v1EventRoutes } from './http/v1-events.js';
import { v1InterviewRoutes } from './http/v1-interviews.js';
import type { ServiceContext } from './services/context.js';
import { createEnglishSpellChecker } from './services/spell-checker.js';

export interface AppOptions {
  db: Kysely<Database>;
  jwtSecret: string;
  /** Tests pass a fixed clock; the service uses the wall clock. */
  clock?: () => Date;
  logger?: Logger | false;
  graphiql?: boolean;
  /** WEBHOOK_ALLOW_PRIVATE, and https-only targets in production. */
  webhooks?: { allowPrivate: boolean; requireHttps: boolean };
}

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Builds the HTTP application without listening (tests inject requests; server.ts listens). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger || undefined,
    logger: options.logger ? undefined : false,
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
  }) as unknown as FastifyInstance;
  const services: ServiceContext = {
    db: options.db,
    clock: options.clock ?? (() => new Date()),
    spell: createEnglishSpellChecker(),
    webhooks: options.webhooks ?? { allowPrivate: false, requireHttps: false },
  };

  installRestErrorHandler(app);
  await app.register(openapi);
  await app.register(auth, { secret: options.jwtSecret, db: options.db });
  await app.register(healthRoutes, { db: options.db });
  await app.register(v1InterviewRoutes, { services });
  await app.register(v1EventRoutes, { services });
  await app.register(graphqlRoutes, { services, graphiql: options.graphiql ?? false });
  return app;
}
