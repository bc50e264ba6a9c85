import { describe, expect, it } from 'vitest';
import {
  canonicalTimeZone,
  emailProblem,
  httpsUrlProblem,
  multiLineProblem,
  parseInstant,
  phoneProblem,
  sendingAddressProblem,
  singleLineProblem,
  timeZoneProblem,
} from '../../src/domain/validation.js';

describe('field checks', () => {
  it.each([
    ['ada@example.com', null],
    ['first.last+tag@sub.example.co.uk', null],
    ['ada@example', 'is not a valid email address'],
    ['ada example@example.com', 'is not a valid email address'],
    ['"quoted"@example.com', 'is not a valid email address'],
    ['ada@example.com\r\nBcc: x@y.z', 'is not a valid email address'],
    [`${'a'.repeat(250)}@x.io`, 'must be at most 254 characters'],
  ])('email %j → %s', (value, problem) => expect(emailProblem(value)).toBe(problem));

  it.each([
    ['+14155550123', true],
    ['+442071838750', true],
    ['+1 415 555 0123', false],
    ['004155550123', false],
    ['+0155550123', false],
    ['+1234567890123456', false],
  ])('phone %s valid: %s', (value, valid) => expect(phoneProblem(value) === null).toBe(valid));

  it('time zones are IANA names, canonicalised', () => {
    expect(timeZoneProblem('Asia/Kolkata')).toBeNull();
    expect(timeZoneProblem('Mars/Base')).not.toBeNull();
    expect(canonicalTimeZone('america/new_york')).toBe('America/New_York');
  });

  it('one-line fields refuse control characters, broken unicode and blank values', () => {
    expect(singleLineProblem('Grace Hopper', 200)).toBeNull();
    expect(singleLineProblem('Zoë O’Brien-Łukasz 山田', 200)).toBeNull();
    expect(singleLineProblem('Line\nBreak', 200)).toMatch(/single line/);
    expect(singleLineProblem('Sep\u2028arator', 200)).toMatch(/single line/);
    expect(singleLineProblem('\ud800broken', 200)).toMatch(/broken Unicode/);
    expect(singleLineProblem('   ', 200)).toMatch(/empty/);
    expect(singleLineProblem('x'.repeat(201), 200)).toMatch(/at most 200/);
    expect(multiLineProblem('Kind regards,\nAda', 1000)).toBeNull();
    expect(multiLineProblem('bell\u0007', 1000)).toMatch(/control/);
  });

  it('URLs are http(s)', () => {
    expect(httpsUrlProblem('https://www.linkedin.com/in/ada')).toBeNull();
    expect(httpsUrlProblem('javascript:alert(1)')).toMatch(/http/);
    expect(httpsUrlProblem('not a url')).toMatch(/valid URL/);
  });

  it.each([
    ['2026-03-03T14:00:00Z', '2026-03-03T14:00:00.000Z'],
    ['2026-03-03T15:00:00+01:00', '2026-03-03T14:00:00.000Z'],
    ['2026-03-03T14:00Z', '2026-03-03T14:00:00.000Z'],
    ['2026-03-03T14:00:00.123456Z', '2026-03-03T14:00:00.123Z'],
    ['2026-03-03T14:00:00', null],
    ['2026-03-03', null],
    ['March 3, 2026', null],
    ['2026-02-30T10:00:00Z', null],
  ])('instant %s → %s', (value, iso) => expect(parseInstant(value)?.toISOString() ?? null).toBe(iso));

  it.each([
    ['followups@acme.example', null],
    ['  followups@acme.example  ', null],
    ['follow.ups+jobs@mail.acme.example', null],
    ['a@acme.example, b@evil.example', 'must be one plain address such as followups@acme.example, without a display name, comment or list'],
    ['a@acme.example;b@evil.example', 'must be one plain address such as followups@acme.example, without a display name, comment or list'],
    ['Acme Jobs <followups@acme.example>', 'must be one plain address such as followups@acme.example, without a display name, comment or list'],
    ['"Acme" followups@acme.example', 'must be one plain address such as followups@acme.example, without a display name, comment or list'],
    ['followups@acme.example (Acme)', 'must be one plain address such as followups@acme.example, without a display name, comment or list'],
    ['followups@acme.example\r\nBcc: victim@evil.example', 'must be one address without control characters or line breaks'],
    ['followups@acme.example\u0000', 'must be one address without control characters or line breaks'],
    ['followups@acme.example\u2028', 'must be one address without control characters or line breaks'],
    ['followups', 'is not a valid email address'],
    ['', 'is not a valid email address'],
  ])('sending address %j → %s', (value, problem) => expect(sendingAddressProblem(value)).toBe(problem));
});
