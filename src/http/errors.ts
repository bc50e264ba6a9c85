import type { FastifyError, FastifyInstance } from 'fastify';
import { type ErrorCode, HTTP_STATUS_BY_CODE, ServiceError, UNAVAILABLE_RETRY_AFTER_SECONDS, unavailableOrUndefined } from '../services/errors.js';
import { errorForLog } from '../logger.js';

/** The REST error body: the same codes as GraphQL's extensions.code, the field at fault, and every problem found. */
export interface ErrorBody {
  error: ErrorCode | 'RATE_LIMITED';
  message: string;
  field?: string;
  problems?: Array<{ field: string; message: string }>;
}

// A REST body is the input itself: GraphQL's argument name `input.` is no part of its fields.
const withoutInput = (text: string) => text.replace(/^input\./, '');

export function errorBody(error: ServiceError): ErrorBody {
  return {
    error: error.code,
    message: withoutInput(error.message),
    ...(error.field ? { field: withoutInput(error.field) } : {}),
    ...(error.problems ? { problems: error.problems.map((problem) => ({ field: withoutInput(problem.field), message: withoutInput(problem.message) })) } : {}),
  };
}

export function installRestErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = error instanceof ServiceError ? error : unavailableOrUndefined(error);
    if (known) {
      if (known.code === 'UNAVAILABLE') {
        request.log.warn(errorForLog(error), 'database unavailable');
        reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      }
      return reply.code(HTTP_STATUS_BY_CODE[known.code]).send(errorBody(known));
    }
    if (error.statusCode === 429) return reply.code(429).send({ error: 'RATE_LIMITED', message: error.message });
    // Fastify's own refusals (malformed JSON, a body too large, a wrong content type) are 4xx
    // with a message that quotes no payload.
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      const code: ErrorCode = error.statusCode === 401 ? 'UNAUTHENTICATED' : error.statusCode === 404 ? 'NOT_FOUND' : 'BAD_USER_INPUT';
      return reply.code(error.statusCode).send({ error: code, message: error.message });
    }
    request.log.error(errorForLog(error), 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'Internal server error' });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
}
