// Which driver errors mean "the database is not there right now" rather than "this query is
// wrong". The first kind is answered 503 / UNAVAILABLE and makes the worker pause; the second
// stays what it is (a bug, a constraint). Both pg and PGlite report PostgreSQL's SQLSTATE in
// `code`; pg reports socket trouble with Node's errno codes or a plain message.

/** SQLSTATE classes and codes that say the server went away, refuses connections or gave up. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '57P05', // idle_session_timeout
  '57014', // query_canceled: our statement_timeout ran out
  '25P03', // idle_in_transaction_session_timeout
  '53300', // too_many_connections
]);
const UNAVAILABLE_SQLSTATE_CLASSES = ['08']; // connection exceptions

const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

// pg says these in words only (no code): a socket closed under a query, a connect or query
// timeout of the client itself, a pool that could not hand out a client in time.
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /connection timeout/i,
  /timeout exceeded when trying to connect/i,
  /query read timeout/i,
  /client has encountered a connection error and is not queryable/i,
  /cannot use a pool after calling end/i,
  /the database did not answer/i,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    if (current instanceof DatabaseUnavailableError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
      if (code.length === 5 && UNAVAILABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return true;
    }
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Raised by our own guards (a readiness ping that timed out) in the same vocabulary. */
export class DatabaseUnavailableError extends Error {
  constructor(message = 'the database did not answer in time') {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Runs `work`, or fails with DatabaseUnavailableError after `ms` (the work itself carries on). */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(`the database did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
