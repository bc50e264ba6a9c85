import { IANAZone } from 'luxon';

// Field checks shared by the GraphQL scalars and the REST routes, so a bad value gets the same
// message whichever way it arrives. Each returns null when the value is fine, or what is wrong.

export const LIMITS = {
  name: 200,
  email: 254,
  title: 200,
  topic: 200,
  topics: 20,
  interviewers: 20,
  signature: 1000,
  url: 500,
  cursor: 200,
} as const;

// The HTML living standard's definition of a valid e-mail address: what browsers accept in
// <input type=email>, strict enough to keep quotes, spaces and line breaks out of headers.
const EMAIL_PATTERN =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

export function emailProblem(value: string): string | null {
  if (value.length > LIMITS.email) return `must be at most ${LIMITS.email} characters`;
  if (!EMAIL_PATTERN.test(value)) return 'is not a valid email address';
  return null;
}

// A tenant's sending address is the From of every message and the envelope sender: exactly
// one plain address. A display name, a comment or a second address would be taken apart by
// mail software in ways we do not control, so they are refused rather than interpreted.
const ADDRESS_EXTRAS = /[\s,;<>"()[\]\\]/;

export function sendingAddressProblem(value: string): string | null {
  if (CONTROL_CHARACTERS.test(value)) return 'must be one address without control characters or line breaks';
  if (ADDRESS_EXTRAS.test(value.trim())) return 'must be one plain address such as followups@acme.example, without a display name, comment or list';
  return emailProblem(value.trim());
}

// E.164: a plus, a country code that does not start with 0, and at most 15 digits in all.
const E164_PATTERN = /^\+[1-9][0-9]{6,14}$/;

export function phoneProblem(value: string): string | null {
  return E164_PATTERN.test(value) ? null : 'must be an E.164 phone number such as +14155550123';
}

export function timeZoneProblem(value: string): string | null {
  return IANAZone.isValidZone(value) ? null : 'is not an IANA time zone such as Europe/Berlin';
}

/** The zone's canonical spelling (`europe/berlin` → `Europe/Berlin`), so stored names compare equal. */
export function canonicalTimeZone(value: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
}

// Control characters (CR and LF above all) in a one-line field could end up in a mail header.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_NEWLINES = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function singleLineProblem(value: string, max: number): string | null {
  if (value.trim().length === 0) return 'must not be empty';
  if (value.length > max) return `must be at most ${max} characters`;
  if (CONTROL_CHARACTERS.test(value)) return 'must be a single line without control characters';
  if (LONE_SURROGATE.test(value)) return 'contains broken Unicode';
  return null;
}

export function multiLineProblem(value: string, max: number): string | null {
  if (value.length > max) return `must be at most ${max} characters`;
  if (CONTROL_EXCEPT_NEWLINES.test(value)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(value)) return 'contains broken Unicode';
  return null;
}

export function httpsUrlProblem(value: string): string | null {
  if (value.length > LIMITS.url) return `must be at most ${LIMITS.url} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  if (CONTROL_CHARACTERS.test(value)) return 'must not contain control characters';
  return null;
}

// ISO-8601 with a date, a time and an explicit offset: an instant means the same everywhere.
const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

export function parseInstant(value: string): Date | null {
  if (!INSTANT_PATTERN.test(value)) return null;
  // Date would roll 2026-02-30 over into March; a calendar date must exist as written.
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const calendarDay = new Date(Date.UTC(year, month - 1, day));
  if (calendarDay.getUTCMonth() !== month - 1 || calendarDay.getUTCDate() !== day) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  return year >= 1970 && year <= 9999 ? date : null;
}

export const INSTANT_FORMAT_HINT = 'must be an ISO-8601 date-time with an offset, such as 2026-03-03T14:00:00Z';
