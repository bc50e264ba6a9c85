import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import type { ServiceContext } from '../services/context.js';
import type { GraphQLContext } from './context.js';
import { formatGraphQLErrors } from './errors.js';
import { loaders, resolvers } from './resolvers.js';

const schemaPath = new URL('../../schema.graphql', import.meta.url);
export const schemaText = fs.readFileSync(schemaPath, 'utf8');

export interface GraphQLOptions {
  services: ServiceContext;
  /** GraphiQL at /graphiql (development). */
  graphiql: boolean;
}

/**
 * Registered in its own encapsulated scope: Mercurius installs an error handler that formats
 * everything as GraphQL, which must not reach the REST routes.
 */
export async function graphqlRoutes(app: FastifyInstance, options: GraphQLOptions): Promise<void> {
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/graphql')) await app.authenticate(request);
  });
  await app.register(mercurius, {
    schema: schemaText,
    resolvers: resolvers as never,
    loaders: loaders as never,
    path: '/graphql',
    graphiql: options.graphiql,
    context: (request): Partial<GraphQLContext> => ({ caller: request.caller!, services: options.services }),
    errorFormatter: formatGraphQLErrors as never,
  });
}
