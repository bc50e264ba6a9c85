import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

// OpenAPI for partners that do not speak GraphQL: the document is built from the routes'
// own schemas, so it cannot drift from what is registered. UI at /docs, JSON at /docs/json.
async function openapiPlugin(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Afterview REST API',
        version: '1',
        description:
          'Ingestion, inbound events and operations for Afterview. The same operations and more are in GraphQL at POST /graphql. ' +
          'Errors answer { error, message, field? } with error one of UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT, INTERNAL, UNAVAILABLE (503 with Retry-After: the database is briefly unreachable; nothing was changed).',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    hideUntagged: true,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

export const openapi = fp(openapiPlugin, { name: 'afterview-openapi' });
