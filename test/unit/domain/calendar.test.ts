import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addBusinessClockHours,
  addBusinessDays,
  addCalendarDays,
  instantAtLocalTime,
  isBusinessDay,
  isBusinessMoment,
  localDateOf,
  nextBusinessMoment,
  startOfBusinessDayAfter,
  type BusinessCalendar,
} from '../../../src/domain/calendar.js';
import { at, local } from './fixtures.js';

const OFFICE: BusinessCalendar = { businessHours: { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '09:00', end: '17:00' }, holidays: [] };
const WITH_EASTER_MONDAY: BusinessCalendar = { ...OFFICE, holidays: ['2025-04-21'] };
const ALWAYS: BusinessCalendar = { businessHours: 'always', holidays: ['2025-04-21'] };

describe('business days and moments', () => {
  it.each([
    ['2025-03-07', OFFICE, true], // Friday
    ['2025-03-08', OFFICE, false], // Saturday
    ['2025-04-21', WITH_EASTER_MONDAY, false], // a listed holiday
    ['2025-04-21', OFFICE, true],
    ['2025-03-08', ALWAYS, true], // "always" counts every calendar day, holidays included
  ] as const)('%s is a business day: %s', (date, cal, expected) => {
    expect(isBusinessDay(date, cal)).toBe(expected);
  });

  it.each([
    ['2025-03-10 09:00', 'Europe/Paris', OFFICE, true], // opening is inside
    ['2025-03-10 08:59', 'Europe/Paris', OFFICE, false],
    ['2025-03-10 16:59', 'Europe/Paris', OFFICE, true],
    ['2025-03-10 17:00', 'Europe/Paris', OFFICE, false], // closing is outside
    ['2025-03-08 11:00', 'Europe/Paris', OFFICE, false], // Saturday
    ['2025-04-21 11:00', 'Europe/Paris', WITH_EASTER_MONDAY, false],
    ['2025-03-08 03:00', 'Asia/Tokyo', ALWAYS, true],
  ] as const)('%s in %s is a business moment: %s', (wall, zone, cal, expected) => {
    expect(isBusinessMoment(at(wall, zone), zone, cal)).toBe(expected);
  });

  it('judges the moment by the zone it is asked about', () => {
    // Friday 18:00 in Tokyo is Friday 05:00 in New York: closed in both, for different reasons.
    const instant = at('2025-03-07 18:00', 'Asia/Tokyo');
    expect(isBusinessMoment(instant, 'Asia/Tokyo', OFFICE)).toBe(false);
    expect(local(nextBusinessMoment(instant, 'America/New_York', OFFICE), 'America/New_York')).toBe('Fri 2025-03-07 09:00');
    expect(local(nextBusinessMoment(instant, 'Asia/Tokyo', OFFICE), 'Asia/Tokyo')).toBe('Mon 2025-03-10 09:00');
  });
});

describe('nextBusinessMoment', () => {
  it.each([
    ['Friday evening waits for Monday', '2025-03-07 18:00', 'Europe/Paris', OFFICE, 'Mon 2025-03-10 09:00'],
    ['inside hours is itself', '2025-03-07 10:15', 'Europe/Paris', OFFICE, 'Fri 2025-03-07 10:15'],
    ['early morning waits for the opening', '2025-03-07 06:30', 'Europe/Paris', OFFICE, 'Fri 2025-03-07 09:00'],
    ['a holiday Monday is skipped', '2025-04-18 17:30', 'Europe/London', WITH_EASTER_MONDAY, 'Tue 2025-04-22 09:00'],
    ['"always" never waits', '2025-03-08 03:00', 'Europe/Paris', ALWAYS, 'Sat 2025-03-08 03:00'],
  ] as const)('%s', (_name, wall, zone, cal, expected) => {
    expect(local(nextBusinessMoment(at(wall, zone), zone, cal), zone)).toBe(expected);
  });

  // Across a DST change, a 09:00 opening stays 09:00 local; only the UTC hour moves.
  it.each([
    ['Europe/Berlin spring forward', 'Europe/Berlin', '2025-03-28 18:00', 'Mon 2025-03-31 09:00', '2025-03-31T07:00:00.000Z'],
    ['Europe/Berlin fall back', 'Europe/Berlin', '2025-10-24 18:00', 'Mon 2025-10-27 09:00', '2025-10-27T08:00:00.000Z'],
    ['America/New_York spring forward', 'America/New_York', '2025-03-07 18:00', 'Mon 2025-03-10 09:00', '2025-03-10T13:00:00.000Z'],
    ['America/New_York fall back', 'America/New_York', '2025-10-31 18:00', 'Mon 2025-11-03 09:00', '2025-11-03T14:00:00.000Z'],
    ['Australia/Sydney DST ends', 'Australia/Sydney', '2025-04-04 18:00', 'Mon 2025-04-07 09:00', '2025-04-06T23:00:00.000Z'],
    ['Australia/Sydney DST starts', 'Australia/Sydney', '2025-10-03 18:00', 'Mon 2025-10-06 09:00', '2025-10-05T22:00:00.000Z'],
  ] as const)('DST week in %s keeps the 09:00 opening', (_name, zone, fridayEvening, expectedLocal, expectedUtc) => {
    const opening = nextBusinessMoment(at(fridayEvening, zone), zone, OFFICE);
    expect(local(opening, zone)).toBe(expectedLocal);
    expect(opening.toISOString()).toBe(expectedUtc);
  });

  it('opens at the end of the gap when the opening time does not exist that day', () => {
    // Berlin skips 02:00–03:00 on Sunday 30 March 2025; a 02:30 opening becomes 03:00 CEST.
    const night: BusinessCalendar = { businessHours: { days: ['SUN'], start: '02:30', end: '06:00' }, holidays: [] };
    const opening = nextBusinessMoment(at('2025-03-30 00:00', 'Europe/Berlin'), 'Europe/Berlin', night);
    expect(opening.toISOString()).toBe('2025-03-30T01:00:00.000Z');
    expect(local(opening, 'Europe/Berlin')).toBe('Sun 2025-03-30 03:00');
  });

  it('skips a day whose whole business window falls in the gap', () => {
    const gapOnly: BusinessCalendar = { businessHours: { days: ['SUN'], start: '02:10', end: '02:50' }, holidays: [] };
    const opening = nextBusinessMoment(at('2025-03-30 00:00', 'Europe/Berlin'), 'Europe/Berlin', gapOnly);
    expect(local(opening, 'Europe/Berlin')).toBe('Sun 2025-04-06 02:10');
  });
});

describe('local times that do not exist or occur twice', () => {
  it.each([
    ['Berlin spring gap moves forward to 03:00 CEST', '2025-03-30', '02:30', 'Europe/Berlin', '2025-03-30T01:00:00.000Z'],
    ['New York spring gap moves forward to 03:00 EDT', '2025-03-09', '02:30', 'America/New_York', '2025-03-09T07:00:00.000Z'],
    ['Sydney spring gap moves forward to 03:00 AEDT', '2025-10-05', '02:15', 'Australia/Sydney', '2025-10-04T16:00:00.000Z'],
    ['Berlin repeated 02:30 takes the earlier (CEST)', '2025-10-26', '02:30', 'Europe/Berlin', '2025-10-26T00:30:00.000Z'],
    ['New York repeated 01:30 takes the earlier (EDT)', '2025-11-02', '01:30', 'America/New_York', '2025-11-02T05:30:00.000Z'],
    ['Sydney repeated 02:30 takes the earlier (AEDT)', '2025-04-06', '02:30', 'Australia/Sydney', '2025-04-05T15:30:00.000Z'],
    ['an ordinary time is unambiguous', '2025-03-10', '09:00', 'Asia/Tokyo', '2025-03-10T00:00:00.000Z'],
  ] as const)('%s', (_name, date, time, zone, expectedUtc) => {
    expect(instantAtLocalTime(date, time, zone).toISOString()).toBe(expectedUtc);
  });

  it('finds the second occurrence when the first is already past', () => {
    // Business from 01:30 on the fall-back Sunday in New York; at the second 01:15 (EST) the
    // first 01:30 is over, so the next opening is the second 01:30.
    const earlyHours: BusinessCalendar = { businessHours: { days: ['SUN'], start: '01:30', end: '01:45' }, holidays: [] };
    const secondQuarterPast = new Date('2025-11-02T06:15:00.000Z'); // 01:15 EST
    expect(nextBusinessMoment(secondQuarterPast, 'America/New_York', earlyHours).toISOString()).toBe('2025-11-02T06:30:00.000Z');
  });
});

describe('addBusinessDays keeps the local wall-clock time', () => {
  it.each([
    ['Monday + 5 is next Monday', '2025-03-10 10:00', 'Europe/Paris', 5, OFFICE, 'Mon 2025-03-17 10:00'],
    ['Friday + 1 is Monday', '2025-03-07 14:00', 'Europe/Paris', 1, OFFICE, 'Mon 2025-03-10 14:00'],
    ['a holiday is not counted', '2025-04-17 11:00', 'Europe/London', 2, WITH_EASTER_MONDAY, 'Tue 2025-04-22 11:00'],
    ['across spring forward in Berlin', '2025-03-28 09:00', 'Europe/Berlin', 1, OFFICE, 'Mon 2025-03-31 09:00'],
    ['across fall back in New York', '2025-10-31 16:30', 'America/New_York', 1, OFFICE, 'Mon 2025-11-03 16:30'],
    ['"always" counts calendar days', '2025-03-07 14:00', 'Europe/Paris', 2, ALWAYS, 'Sun 2025-03-09 14:00'],
    ['zero days is the same instant', '2025-03-08 14:00', 'Europe/Paris', 0, OFFICE, 'Sat 2025-03-08 14:00'],
  ] as const)('%s', (_name, wall, zone, n, cal, expected) => {
    expect(local(addBusinessDays(at(wall, zone), n, zone, cal), zone)).toBe(expected);
  });

  it('calendar days also keep the wall clock across DST', () => {
    expect(local(addCalendarDays(at('2025-03-27 18:00', 'Europe/Berlin'), 7, 'Europe/Berlin'), 'Europe/Berlin')).toBe('Thu 2025-04-03 18:00');
    expect(local(addCalendarDays(at('2025-10-29 09:00', 'America/New_York'), 7, 'America/New_York'), 'America/New_York')).toBe('Wed 2025-11-05 09:00');
  });
});

describe('startOfBusinessDayAfter', () => {
  it.each([
    ['a Friday decision: Monday opening', '2025-03-07', 1, OFFICE, 'Mon 2025-03-10 09:00'],
    ['a Wednesday decision: Thursday opening', '2025-03-05', 1, OFFICE, 'Thu 2025-03-06 09:00'],
    ['two business days over Easter Monday', '2025-04-18', 2, WITH_EASTER_MONDAY, 'Wed 2025-04-23 09:00'],
    ['zero days on a Saturday: the next business day', '2025-03-08', 0, OFFICE, 'Mon 2025-03-10 09:00'],
    ['"always": the next local midnight', '2025-03-08', 1, ALWAYS, 'Sun 2025-03-09 00:00'],
  ] as const)('%s', (_name, date, n, cal, expected) => {
    expect(local(startOfBusinessDayAfter(date, n, 'Europe/London', cal), 'Europe/London')).toBe(expected);
  });

  it('reads the local date in the zone asked about', () => {
    const decision = at('2025-03-07 23:30', 'America/Los_Angeles'); // already Saturday in Paris
    expect(localDateOf(decision, 'America/Los_Angeles')).toBe('2025-03-07');
    expect(localDateOf(decision, 'Europe/Paris')).toBe('2025-03-08');
  });
});

describe("T1's clock counts only hours that fall on business days", () => {
  it.each([
    ['Friday 18:00 + 24 h: Monday 18:00', '2025-03-07 18:00', 24, OFFICE, 'Mon 2025-03-10 18:00'],
    ['Friday 18:00 + 48 h: Tuesday 18:00', '2025-03-07 18:00', 48, OFFICE, 'Tue 2025-03-11 18:00'],
    ['Wednesday 18:00 + 24 h: Thursday 18:00', '2025-03-05 18:00', 24, OFFICE, 'Thu 2025-03-06 18:00'],
    ['Thursday 18:00 + 24 h: Friday (not a listed holiday) counts', '2025-04-17 18:00', 24, WITH_EASTER_MONDAY, 'Fri 2025-04-18 18:00'],
    ['Friday before Easter Monday + 24 h: Tuesday 18:00', '2025-04-18 18:00', 24, WITH_EASTER_MONDAY, 'Tue 2025-04-22 18:00'],
    ['a Saturday end starts counting on Monday', '2025-03-08 14:00', 24, OFFICE, 'Tue 2025-03-11 00:00'],
    ['"always": plain hours', '2025-03-07 18:00', 24, ALWAYS, 'Sat 2025-03-08 18:00'],
  ] as const)('%s', (_name, wall, hours, cal, expected) => {
    expect(local(addBusinessClockHours(at(wall, 'Europe/London'), hours, 'Europe/London', cal), 'Europe/London')).toBe(expected);
  });

  it('is not fooled by a short Sunday (Berlin, spring forward)', () => {
    const end = at('2025-03-28 18:00', 'Europe/Berlin');
    expect(local(addBusinessClockHours(end, 24, 'Europe/Berlin', OFFICE), 'Europe/Berlin')).toBe('Mon 2025-03-31 18:00');
  });
});

describe('calendar properties', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Tokyo', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Chatham'];
  const instants = fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2027-01-01T00:00:00Z'), noInvalidDate: true });

  it('nextBusinessMoment is a business moment, never earlier, and nothing business lies in between', () => {
    fc.assert(
      fc.property(instants, fc.constantFrom(...zones), (instant, zone) => {
        const next = nextBusinessMoment(instant, zone, WITH_EASTER_MONDAY);
        expect(isBusinessMoment(next, zone, WITH_EASTER_MONDAY)).toBe(true);
        expect(next.getTime()).toBeGreaterThanOrEqual(instant.getTime());
        if (next > instant) expect(isBusinessMoment(new Date(next.getTime() - 1), zone, WITH_EASTER_MONDAY)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('addBusinessDays lands on a business day at the same wall-clock time when that time exists', () => {
    fc.assert(
      fc.property(instants, fc.constantFrom(...zones), fc.integer({ min: 1, max: 15 }), (instant, zone, n) => {
        const later = addBusinessDays(instant, n, zone, OFFICE);
        expect(isBusinessDay(localDateOf(later, zone), OFFICE)).toBe(true);
        expect(later.getTime()).toBeGreaterThan(instant.getTime());
        const wallBefore = local(instant, zone).slice(-5);
        const wallAfter = local(later, zone).slice(-5);
        // Only a DST gap at that exact time of day may shift it (forward).
        if (wallAfter !== wallBefore) expect(wallAfter > wallBefore).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
