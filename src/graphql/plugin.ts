import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import type { Metrics } from '../metrics.js';
import type { ServiceContext } from '../services/context.js';
import type { GraphQLContext } from './context.js';
import { formatGraphQLErrors } from './errors.js';
import { ServiceError } from '../services/errors.js';
import { costChecker, type GraphQLLimits, operationSummary, validationRules } from './limits.js';
import { createLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

const schemaPath = new URL('../../schema.graphql', import.meta.url);
export const schemaText = fs.readFileSync(schemaPath, 'utf8');

export interface GraphQLOptions {
  services: ServiceContext;
  limits: GraphQLLimits;
  metrics: Metrics;
}

/**
 * Registered in its own encapsulated scope: Mercurius installs an error handler that formats
 * everything as GraphQL, which must not reach the REST routes.
 */
export async function graphqlRoutes(app: FastifyInstance, options: GraphQLOptions): Promise<void> {
  const { limits, metrics } = options;
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url === '/graphql') await app.authenticate(request);
  });
  // Mercurius gives its route a response schema whose `data` is any object, which fastify's
  // schema serializer walks key by key; one native JSON.stringify writes the same bytes faster.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(mercurius, {
    schema: schemaText,
    resolvers: resolvers as never,
    path: '/graphql',
    // GraphiQL is served from our own files (src/http/graphiql.ts), not Mercurius' CDN page.
    graphiql: false,
    // Compile a query to JavaScript once it has been seen twice.
    jit: 1,
    queryDepth: limits.maxDepth,
    allowBatchedQueries: false,
    validationRules: validationRules(limits),
    context: (request): Partial<GraphQLContext> => ({
      caller: request.caller!,
      services: options.services,
      // A refused request (no token) has no caller and never reaches a resolver.
      loaders: request.caller ? createLoaders(options.services, request.caller) : (undefined as never),
    }),
    errorFormatter: (execution, context) => {
      const formatted = formatGraphQLErrors(execution, context);
      for (const error of formatted.response.errors ?? []) {
        metrics.graphqlErrors.inc({ code: String((error as { extensions?: { code?: string } }).extensions?.code ?? 'INTERNAL') });
      }
      return formatted;
    },
  });
  const costProblem = costChecker(limits);
  app.graphql.addHook('preExecution', async (schema, document, context, variables) => {
    const operationName = (context.reply.request.body as { operationName?: string } | undefined)?.operationName;
    const tooCostly = costProblem(schema, document, variables as Record<string, unknown> | undefined, operationName);
    if (tooCostly) throw new ServiceError('BAD_USER_INPUT', tooCostly);
    metrics.graphqlOperations.inc(operationSummary(document, operationName));
  });
}
