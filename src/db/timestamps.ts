import parsePostgresDate from 'postgres-date';

// PostgreSQL sends timestamptz as text like "2026-03-03 14:00:00.123456+00". Reading a page of
// steps parses thousands of them, and the general parser (a regular expression and several
// Date calls each) measured as the largest single cost of a page. This reads the common shape
// by position and leaves anything else (BC dates, infinity, odd offsets) to the general one.

function digits(text: string, from: number, length: number): number {
  let value = 0;
  for (let i = from; i < from + length; i += 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

export function parseTimestamptz(text: string): Date {
  // Years before 1000 (and after 9999) have another shape, and Date.UTC reads 0–99 as 19xx.
  if (text.length < 22 || text[4] !== '-' || text[10] !== ' ' || text[13] !== ':' || text[0] === '0') return parsePostgresDate(text) as Date;
  let position = 19;
  let millis = 0;
  if (text[position] === '.') {
    let scale = 100;
    position += 1;
    while (position < text.length && text.charCodeAt(position) >= 48 && text.charCodeAt(position) <= 57) {
      millis += (text.charCodeAt(position) - 48) * scale;
      scale /= 10;
      position += 1;
    }
    millis = Math.floor(millis + 1e-9);
  }
  const sign = text[position] === '+' ? 1 : text[position] === '-' ? -1 : 0;
  const rest = text.length - position;
  // "+00", "+05:30", "+05:30:15" (seconds in an offset are historical zones only): the general parser.
  if (sign === 0 || (rest !== 3 && rest !== 6)) return parsePostgresDate(text) as Date;
  const offsetMinutes = digits(text, position + 1, 2) * 60 + (rest === 6 ? digits(text, position + 4, 2) : 0);
  const utc = Date.UTC(
    digits(text, 0, 4),
    digits(text, 5, 2) - 1,
    digits(text, 8, 2),
    digits(text, 11, 2),
    digits(text, 14, 2),
    digits(text, 17, 2),
    millis,
  );
  const date = new Date(utc - sign * offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? (parsePostgresDate(text) as Date) : date;
}
