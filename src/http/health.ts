import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { migrationsAreCurrent } from '../db/migrate.js';
import type { Database } from '../db/schema.js';

export async function healthRoutes(app: FastifyInstance, options: { db: Kysely<Database> }): Promise<void> {
  app.get('/healthz', { schema: { summary: 'The process is up', tags: ['operations'] } }, async () => ({ status: 'ok' }));

  // Ready means a request could be served: the database answers and its schema is current.
  app.get('/readyz', { schema: { summary: 'The database answers and its migrations are applied', tags: ['operations'] } }, async (_request, reply) => {
    try {
      await sql`SELECT 1`.execute(options.db);
      if (!(await migrationsAreCurrent(options.db))) {
        return reply.code(503).send({ status: 'unavailable', reason: 'migrations pending' });
      }
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
}
