import fc from 'fast-check';
import parsePostgresDate from 'postgres-date';
import { describe, expect, it } from 'vitest';
import { parseTimestamptz } from '../../src/db/timestamps.js';

function postgresText(date: Date, offsetMinutes: number, fractionDigits: number): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const fraction = fractionDigits === 0 ? '' : `.${pad(local.getUTCMilliseconds(), 3)}${'0'.repeat(Math.max(0, fractionDigits - 3))}`.slice(0, fractionDigits + 1);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${pad(Math.floor(abs / 60))}${abs % 60 ? `:${pad(abs % 60)}` : ''}`;
  return `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}${offset}`;
}

describe('timestamptz parsing', () => {
  it('reads what PostgreSQL writes exactly as the general parser does', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(0, 60, -300, 330, 345, -570, 840),
        fc.integer({ min: 0, max: 6 }),
        (date, offset, fractionDigits) => {
          const text = postgresText(date, offset, fractionDigits);
          expect(parseTimestamptz(text).getTime()).toBe((parsePostgresDate(text) as Date).getTime());
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each(['infinity', '0044-03-15 12:00:00+00', '2026-03-03 14:00:00+05:30:15', '1970-01-01 00:00:00 BC+00'])('leaves %s to the general parser', (text) => {
    const expected = parsePostgresDate(text);
    const actual = parseTimestamptz(text);
    expect(actual instanceof Date ? actual.getTime() : actual).toEqual(expected instanceof Date ? expected.getTime() : expected);
  });
});
