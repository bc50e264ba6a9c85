// The error vocabulary of the API (API.md): services throw these, and both GraphQL
// (extensions.code) and REST (HTTP status) translate them the same way.

export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'CONFLICT' | 'INTERNAL';

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
};

export function notFound(what: string, id: string): ServiceError {
  return new ServiceError('NOT_FOUND', `${what} ${id} was not found`);
}

export function badInput(field: string, problem: string): ServiceError {
  return new ServiceError('BAD_USER_INPUT', `${field} ${problem}`, field);
}

export function conflict(message: string): ServiceError {
  return new ServiceError('CONFLICT', message);
}
