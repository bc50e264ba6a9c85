import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { fieldOf, inputShapeProblem, MAX_INPUT_DEPTH, NUL_PROBLEM } from '../domain/input-shape.js';
import { badInput } from '../services/errors.js';

// Every request's input is refused as BAD_USER_INPUT, naming the field, when it holds a NUL
// character or nests deeper than MAX_INPUT_DEPTH: JSON bodies (REST bodies and GraphQL
// variables alike), the query string, path parameters and headers. Done once here, before
// authentication and routing reach anything that reads the values, so no route can forget it
// and no such value reaches PostgreSQL (which refuses NUL in text) or a recursive walker.

function headerProblem(request: FastifyRequest): string | null {
  for (const [name, value] of Object.entries(request.headers)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((one) => typeof one === 'string' && one.includes('\u0000'))) return name;
  }
  return null;
}

async function inputGuardPlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', async (request) => {
    const header = headerProblem(request);
    if (header) throw badInput(`headers.${header}`, NUL_PROBLEM);
    const inQuery = inputShapeProblem(request.query);
    if (inQuery) throw badInput(fieldOf(inQuery, 'query'), inQuery.problem);
    const inPath = inputShapeProblem(request.params);
    if (inPath) throw badInput(fieldOf(inPath), inPath.problem);
  });

  // Fastify's own JSON parsing (with its prototype-poisoning protection), then the shape check.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(error as never, undefined);
      const problem = inputShapeProblem(value, MAX_INPUT_DEPTH);
      if (problem) return done(badInput(fieldOf(problem), problem.problem) as never, undefined);
      done(null, value);
    });
  });
}

export const inputGuard = fp(inputGuardPlugin, { name: 'afterview-input-guard' });
