import pino, { type LoggerOptions } from 'pino';

// Personal data (names, emails, phones, message bodies) never goes to logs. Request bodies and
// query strings are not logged at all, code logs ids, counts and codes rather than values, and
// as a second line of defence any field with a personal-sounding name is censored.

const PERSONAL_KEYS = ['email', 'phone', 'name', 'body', 'subject', 'text', 'to', 'from', 'replyTo', 'fromEmail', 'fromName', 'address', 'signature'];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        ...PERSONAL_KEYS,
        ...PERSONAL_KEYS.map((key) => `*.${key}`),
      ],
      censor: '[redacted]',
    },
  };
}

export function createLogger(level: string) {
  return pino(loggerOptions(level));
}

/**
 * An error as a log may carry it: its kind, code and where it happened. The message is left out
 * because a driver's message can quote the values involved (an address in a unique violation).
 */
export function errorForLog(error: unknown): { errName: string; code?: string; frames?: string } {
  if (!(error instanceof Error)) return { errName: typeof error };
  const code = (error as { code?: unknown }).code;
  return {
    errName: error.name,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack ? { frames: error.stack.split('\n').slice(1).join('\n') } : {}),
  };
}
