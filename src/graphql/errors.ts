import type { ExecutionResult, GraphQLError as GraphQLErrorType } from 'graphql';
import { graphql } from './graphql-instance.js';
import type { MercuriusContext } from 'mercurius';
import { type ErrorCode, HTTP_STATUS_BY_CODE, ServiceError, unavailableOrUndefined } from '../services/errors.js';
import { errorForLog } from '../logger.js';

const { GraphQLError } = graphql;
type GraphQLError = GraphQLErrorType;

// Every error leaves with extensions.code from API.md's list. Service errors carry their own;
// anything GraphQL refused before running (syntax, unknown fields, a value a scalar rejects)
// is the caller's input; anything else is ours, and its details stay in our logs.

interface FormattedError {
  message: string;
  locations?: ReadonlyArray<{ line: number; column: number }> | undefined;
  path?: ReadonlyArray<string | number> | undefined;
  extensions: { code: ErrorCode | 'RATE_LIMITED'; field?: string; problems?: ReadonlyArray<{ field: string; message: string }> };
}

function classify(error: GraphQLError, log: MercuriusContext['reply']['log'] | undefined): FormattedError {
  const base = { locations: error.locations, path: error.path };
  const original = error.originalError;
  const known = original instanceof ServiceError ? original : unavailableOrUndefined(original);
  if (known) {
    if (known.code === 'UNAVAILABLE') log?.warn(errorForLog(original), 'database unavailable');
    return {
      ...base,
      message: known.message,
      extensions: { code: known.code, ...(known.field ? { field: known.field } : {}), ...(known.problems ? { problems: known.problems } : {}) },
    };
  }
  const clientStatus = (original as { statusCode?: number } | undefined)?.statusCode;
  if (clientStatus === 429) return { ...base, message: original!.message, extensions: { code: 'RATE_LIMITED' } };
  const refusedBeforeExecution = !error.path && (original === undefined || original instanceof GraphQLError);
  if (refusedBeforeExecution || original instanceof GraphQLError || (clientStatus && clientStatus >= 400 && clientStatus < 500)) {
    return { ...base, message: error.message, extensions: { code: 'BAD_USER_INPUT' } };
  }
  // Log the kind and the stack, not the message: driver errors can quote the values involved.
  log?.error({ ...errorForLog(original ?? error), path: error.path }, 'graphql internal error');
  return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL' } };
}

// graphql-js appends suggestions to validation messages (' Did you mean "candidates"?'),
// which spell out the schema to anyone guessing at it with introspection turned off.
const SUGGESTION = /\s*Did you mean [^?]*\?\s*$/;

// The parser's own words for a document over maxTokens (its typo included).
const TOO_MANY_TOKENS = /^Syntax Error: Document contains more that (\d+) tokens\. Parsing aborted\.$/;

function reworded(error: FormattedError, hideSuggestions: boolean): FormattedError {
  const tokens = TOO_MANY_TOKENS.exec(error.message);
  if (tokens) {
    const message = `query holds more than ${tokens[1]} tokens, over the limit: ask for fewer fields or split the query`;
    return { ...error, message, extensions: { ...error.extensions, field: 'query' } };
  }
  return hideSuggestions ? { ...error, message: error.message.replace(SUGGESTION, '') } : error;
}

/** Mercurius wraps a batch of validation errors in one error; unwrap so each gets its code. */
function flatten(errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.flatMap((error) => {
    const nested = (error.originalError as { errors?: unknown } | undefined)?.errors;
    if (!Array.isArray(nested)) return [error];
    return nested.map((inner) => (inner instanceof GraphQLError ? inner : new GraphQLError(String((inner as Error).message ?? inner))));
  });
}

/**
 * An execution that ran answers 200 with its errors, as GraphQL over HTTP asks, even when data
 * is null. A request refused before execution (no or bad token, a query that does not parse or
 * validate) answers with the status of its cause: 401, 400, 413, …
 */
export function formatGraphQLErrors(
  execution: ExecutionResult & { statusCode?: number },
  context: MercuriusContext,
  options: { hideSuggestions?: boolean } = {},
): { statusCode: number; response: ExecutionResult } {
  const log = context.reply?.log ?? context.app?.log;
  const raw = execution.errors ?? [];
  const errors = flatten(raw).map((error) => reworded(classify(error, log), options.hideSuggestions ?? false));
  const executed = execution.data !== undefined;
  // A request the database could not serve answers 503 even when it ran, so that load balancers,
  // retrying clients and the partner's monitoring see the outage for what it is.
  const unavailable = errors.some((error) => error.extensions.code === 'UNAVAILABLE');
  const statusCode = unavailable ? 503 : executed ? 200 : (execution.statusCode ?? statusOfRefusal(raw[0]?.originalError, errors[0]?.extensions.code));
  return { statusCode, response: { data: execution.data ?? null, errors: errors as unknown as ExecutionResult['errors'] } };
}

function statusOfRefusal(cause: Error | undefined, code: FormattedError['extensions']['code'] | undefined): number {
  if (cause instanceof ServiceError) return HTTP_STATUS_BY_CODE[cause.code];
  const status = (cause as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400) return status;
  return code === 'BAD_USER_INPUT' ? 400 : code === 'INTERNAL' ? 500 : 200;
}
