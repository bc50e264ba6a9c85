import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { withDeadline } from '../db/availability.js';
import { pingDatabase } from '../db/backlog.js';
import { migrationsAreCurrent } from '../db/migrate.js';
import type { Database } from '../db/schema.js';
import type { Metrics } from '../metrics.js';

/** A probe must hear back quickly even when the database hangs rather than refuses (2 s budget). */
export const READINESS_DEADLINE_MS = 1_500;

export async function healthRoutes(app: FastifyInstance, options: { db: Kysely<Database> }): Promise<void> {
  app.get('/healthz', { config: { rateLimit: false }, schema: { summary: 'The process is up', tags: ['operations'] } }, async () => ({ status: 'ok' }));

  // Ready means a request could be served: the database answers and its schema is current.
  app.get('/readyz', { config: { rateLimit: false }, schema: { summary: 'The database answers and its migrations are applied', tags: ['operations'] } }, async (_request, reply) => {
    try {
      const check = async () => {
        await pingDatabase(options.db);
        return migrationsAreCurrent(options.db);
      };
      if (!(await withDeadline(check(), READINESS_DEADLINE_MS))) {
        return reply.code(503).send({ status: 'unavailable', reason: 'migrations pending' });
      }
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
}

/** Prometheus text format. No personal data: labels are routes, codes and outcomes. */
export async function metricsRoute(app: FastifyInstance, options: { metrics: Metrics }): Promise<void> {
  app.get('/metrics', { config: { rateLimit: false }, schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });
}
