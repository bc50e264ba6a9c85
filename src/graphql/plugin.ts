import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import type { Metrics } from '../metrics.js';
import type { ServiceContext } from '../services/context.js';
import type { GraphQLContext } from './context.js';
import { formatGraphQLErrors } from './errors.js';
import { fieldOf, graphQLDocumentProblem, inputShapeProblem } from '../domain/input-shape.js';
import { badInput, ServiceError } from '../services/errors.js';
import { servicesForCaller } from '../services/tenant-clock.js';
import { costChecker, documentProblem, type GraphQLLimits, operationSummary, validationRules } from './limits.js';
import { createLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

const schemaPath = new URL('../../schema.graphql', import.meta.url);
export const schemaText = fs.readFileSync(schemaPath, 'utf8');

export interface GraphQLOptions {
  services: ServiceContext;
  limits: GraphQLLimits;
  metrics: Metrics;
  /** GET /graphql off, and no "Did you mean" suggestions that spell out the schema. */
  production: boolean;
}

/**
 * Registered in its own encapsulated scope: Mercurius installs an error handler that formats
 * everything as GraphQL, which must not reach the REST routes.
 */
export async function graphqlRoutes(app: FastifyInstance, options: GraphQLOptions): Promise<void> {
  const { limits, metrics } = options;
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    // Queries in URLs end up in access logs and browser histories, and GET skips CORS preflight.
    if (options.production && request.method === 'GET') {
      reply.header('allow', 'POST');
      throw Object.assign(new Error('GET /graphql is turned off in production: POST the query as JSON'), { statusCode: 405 });
    }
    await app.authenticate(request);
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
    graphql: {
      // The parser stops at the first token over the limit, before building anything.
      parseOptions: { maxTokens: limits.maxTokens },
      // graphql-js takes hideSuggestions (Mercurius' types predate it); the error formatter
      // strips the suggestions other steps (variable coercion) still add.
      validateOptions: { hideSuggestions: options.production } as { maxErrors?: number },
    },
    context: async (request): Promise<Partial<GraphQLContext>> => {
      // A refused request (no token) has no caller and never reaches a resolver.
      if (!request.caller) return { caller: undefined as never, services: options.services, loaders: undefined as never };
      // The caller's tenant's view of the services: a sandbox's clock is its test clock.
      const services = await servicesForCaller(options.services, request.caller);
      return { caller: request.caller, services, loaders: createLoaders(services, request.caller) };
    },
    errorFormatter: (execution, context) => {
      const formatted = formatGraphQLErrors(execution, context, { hideSuggestions: options.production });
      for (const error of formatted.response.errors ?? []) {
        metrics.graphqlErrors.inc({ code: String((error as { extensions?: { code?: string } }).extensions?.code ?? 'INTERNAL') });
      }
      return formatted;
    },
  });
  // Before Mercurius looks the query up in its cache of parsed documents: cheap, linear checks
  // of the raw text, so an oversized or deeply nested document never reaches the parser.
  app.graphql.addHook('preParsing', async (_schema, source) => {
    const problem = graphQLDocumentProblem(source, { maxBytes: limits.maxBytes, maxDepth: limits.maxNesting });
    if (problem) throw badInput('query', problem);
  });
  // Only for query text Mercurius has not parsed before: an accepted document is cached, so
  // this runs once per distinct query.
  app.graphql.addHook('preValidation', async (_schema, document) => {
    const found = documentProblem(document, limits);
    if (found) throw badInput(found.field, found.problem);
  });
  const costProblem = costChecker(limits);
  app.graphql.addHook('preExecution', async (schema, document, context, variables) => {
    // A JSON body was checked when it was parsed; variables in a GET query string were not.
    const inVariables = inputShapeProblem(variables);
    if (inVariables) throw badInput(fieldOf(inVariables, 'variables'), inVariables.problem);
    const operationName = (context.reply.request.body as { operationName?: string } | undefined)?.operationName;
    const tooCostly = costProblem(schema, document, variables as Record<string, unknown> | undefined, operationName);
    if (tooCostly) throw new ServiceError('BAD_USER_INPUT', tooCostly);
    metrics.graphqlOperations.inc(operationSummary(document, operationName));
  });
}
