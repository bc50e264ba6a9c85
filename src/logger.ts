import pino, { type LoggerOptions } from 'pino';

// Personal data (names, emails, phones, message bodies) never goes to logs: request bodies are
// not logged at all, credentials are redacted, and code logs ids and counts, not values.
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
      censor: '[redacted]',
    },
  };
}

export function createLogger(level: string) {
  return pino(loggerOptions(level));
}
