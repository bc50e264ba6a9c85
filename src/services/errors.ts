import { isDatabaseUnavailable } from '../db/availability.js';

// The error vocabulary of the API (API.md): services throw these, and both GraphQL
// (extensions.code) and REST (HTTP status) translate them the same way.

export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'CONFLICT' | 'INTERNAL' | 'UNAVAILABLE';

export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For BAD_USER_INPUT: the dotted path of the offending field, e.g. `interviewers.1.email`. */
    readonly field?: string,
    /** For BAD_USER_INPUT from validation: every problem found, the first of which is `field` and `message`. */
    readonly problems?: ReadonlyArray<{ field: string; message: string }>,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** How long a caller should wait before trying again after UNAVAILABLE (Retry-After, seconds). */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * The database being away (restarting, failing over, unreachable) is nobody's bug: callers get
 * UNAVAILABLE and try again. The transaction that was cut is rolled back by PostgreSQL, so
 * nothing of the request is half-written.
 */
export function unavailableOrUndefined(error: unknown): ServiceError | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  return new ServiceError('UNAVAILABLE', 'the database is not reachable right now; nothing was changed, try again shortly');
}

export function notFound(what: string, id: string): ServiceError {
  return new ServiceError('NOT_FOUND', `${what} ${id} was not found`);
}

export function badInput(field: string, problem: string): ServiceError {
  return new ServiceError('BAD_USER_INPUT', `${field} ${problem}`, field);
}

export function conflict(message: string): ServiceError {
  return new ServiceError('CONFLICT', message);
}
