import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import type { Metrics } from '../metrics.js';
import type { ServiceContext } from '../services/context.js';
import type { GraphQLContext } from './context.js';
import { formatGraphQLErrors } from './errors.js';
import { ServiceError } from '../services/errors.js';
import { servicesForCaller } from '../services/test-clock.js';
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
    // GraphiQL needs introspection: both are for development unless enabled on purpose.
    graphiql: limits.introspection,
    // Compile a query to JavaScript once it has been seen twice.
    jit: 1,
    queryDepth: limits.maxDepth,
    allowBatchedQueries: false,
    validationRules: validationRules(limits),
    context: async (request): Promise<Partial<GraphQLContext>> => {
      // A refused request (no token) has no caller and never reaches a resolver.
      if (!request.caller) return { caller: undefined as never, services: options.services, loaders: undefined as never };
      // The caller's tenant's view of the services: a sandbox's clock is its test clock.
      const services = await servicesForCaller(options.services, request.caller);
      return { caller: request.caller, services, loaders: createLoaders(services, request.caller) };
    },
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
