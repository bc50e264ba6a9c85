// The business-hours calendar (T2) and T1's clock, in IANA zones.
//
// Local wall-clock time is handled as "wall milliseconds": the local date and time read as if
// they were UTC. Day arithmetic on wall milliseconds is plain integer arithmetic, and luxon's
// zone data turns a wall time back into an instant. Converting back is where DST bites:
//   - a wall time that does not exist (spring forward) becomes the first instant after the gap,
//     i.e. the moment the clocks jump, so a 02:30 opening on that day is 03:00;
//   - a wall time that occurs twice (fall back) becomes the earlier instant.
// Nothing here reads a clock: every instant comes in as an argument.

import { IANAZone } from 'luxon';
import type { PolicyDocument, Weekday } from './policy-document.js';

/** The policy is the calendar: its business hours and holidays are all the calendar needs. */
export type BusinessCalendar = Pick<PolicyDocument, 'businessHours' | 'holidays'>;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * How far ahead a search for a business day may look. A valid policy (at least one weekday,
 * at most 1000 holidays) always finds one well within this; the bound only turns a
 * pathological calendar into an error instead of an endless loop.
 */
const MAX_DAYS_SEARCHED = 8_000;

const WEEKDAY_BY_ISO_NUMBER: readonly Weekday[] = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

const zoneCache = new Map<string, IANAZone>();

function ianaZone(name: string): IANAZone {
  let zone = zoneCache.get(name);
  if (zone === undefined) {
    if (!IANAZone.isValidZone(name)) throw new RangeError(`unknown time zone: ${name}`);
    zone = IANAZone.create(name);
    zoneCache.set(name, zone);
  }
  return zone;
}

// Asking Intl for a zone's offset is the dearest step of the calendar, and a worker batch asks
// for the same few instants (due times, deadlines) over and over: answers are kept, a bounded
// number of them.
const offsetMemo = new Map<string, number>();
const OFFSET_MEMO_LIMIT = 50_000;

function offsetMs(instantMs: number, zone: string): number {
  const key = `${zone} ${instantMs}`;
  let offset = offsetMemo.get(key);
  if (offset === undefined) {
    offset = ianaZone(zone).offset(instantMs) * MINUTE_MS;
    if (offsetMemo.size >= OFFSET_MEMO_LIMIT) offsetMemo.clear();
    offsetMemo.set(key, offset);
  }
  return offset;
}

function wallMsOf(instantMs: number, zone: string): number {
  return instantMs + offsetMs(instantMs, zone);
}

/** Every instant whose local wall time is `wallMs`: none in a gap, two in an overlap. */
function instantsAtWall(wallMs: number, zone: string): number[] {
  // Offsets never exceed ±14 h, so the offsets in force a day either side of the wall time
  // cover both sides of any transition that could affect it.
  const offsets = new Set([offsetMs(wallMs - DAY_MS, zone), offsetMs(wallMs, zone), offsetMs(wallMs + DAY_MS, zone)]);
  const instants = new Set<number>();
  for (const offset of offsets) {
    const candidate = wallMs - offset;
    if (wallMsOf(candidate, zone) === wallMs) instants.add(candidate);
  }
  return [...instants].sort((a, b) => a - b);
}

/** The first instant whose wall time is at least `wallMs`: the moment a DST gap ends. */
function instantEndingGap(wallMs: number, zone: string): number {
  const offsets = [offsetMs(wallMs - DAY_MS, zone), offsetMs(wallMs + DAY_MS, zone)];
  // Before the gap the larger offset reads too early; after it the smaller offset reads too
  // late. The jump lies between, and wall time only increases across it, so bisect.
  let before = wallMs - Math.max(...offsets);
  let after = wallMs - Math.min(...offsets);
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (wallMsOf(middle, zone) >= wallMs) after = middle;
    else before = middle;
  }
  return after;
}

/** The instant for a local wall time: the earlier one if repeated, the end of the gap if skipped. */
function instantForWall(wallMs: number, zone: string): number {
  return instantsAtWall(wallMs, zone)[0] ?? instantEndingGap(wallMs, zone);
}

/** Like `instantForWall`, but the first such instant that is not before `notBefore`. */
function instantForWallNotBefore(wallMs: number, zone: string, notBefore: number): number | null {
  const instants = instantsAtWall(wallMs, zone);
  const candidates = instants.length > 0 ? instants : [instantEndingGap(wallMs, zone)];
  return candidates.find((instant) => instant >= notBefore) ?? null;
}

function dayNumberOfWall(wallMs: number): number {
  return Math.floor(wallMs / DAY_MS);
}

function isoDateOfDayNumber(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

function dayNumberOfIsoDate(localDate: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(localDate);
  if (match === null) throw new RangeError(`expected a local date YYYY-MM-DD, got ${localDate}`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY_MS;
}

function weekdayOfDayNumber(dayNumber: number): Weekday {
  // Day 0 (1970-01-01) was a Thursday.
  const isoIndex = (((dayNumber + 3) % 7) + 7) % 7;
  return WEEKDAY_BY_ISO_NUMBER[isoIndex] ?? 'MON';
}

/** `HH:mm` as milliseconds after local midnight. */
function timeOfDayMs(hhmm: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (match === null) throw new RangeError(`expected a time HH:mm, got ${hhmm}`);
  return (Number(match[1]) * 60 + Number(match[2])) * MINUTE_MS;
}

function isBusinessDayNumber(dayNumber: number, cal: BusinessCalendar): boolean {
  if (cal.businessHours === 'always') return true;
  if (!cal.businessHours.days.includes(weekdayOfDayNumber(dayNumber))) return false;
  return !cal.holidays.includes(isoDateOfDayNumber(dayNumber));
}

/** Opening and closing of a business day, as milliseconds after local midnight. */
function openingHours(cal: BusinessCalendar): { opens: number; closes: number } {
  if (cal.businessHours === 'always') return { opens: 0, closes: DAY_MS };
  return { opens: timeOfDayMs(cal.businessHours.start), closes: timeOfDayMs(cal.businessHours.end) };
}

/** The local calendar date (`YYYY-MM-DD`) of an instant in a zone. */
export function localDateOf(instant: Date, zone: string): string {
  return isoDateOfDayNumber(dayNumberOfWall(wallMsOf(instant.getTime(), zone)));
}

/** The instant a local date and `HH:mm` time denote in a zone (earlier if repeated, gap end if skipped). */
export function instantAtLocalTime(localDate: string, hhmm: string, zone: string): Date {
  return new Date(instantForWall(dayNumberOfIsoDate(localDate) * DAY_MS + timeOfDayMs(hhmm), zone));
}

/** A weekday in the calendar's business days that is not a holiday. With `"always"`, every day. */
export function isBusinessDay(localDate: string, cal: BusinessCalendar): boolean {
  return isBusinessDayNumber(dayNumberOfIsoDate(localDate), cal);
}

/** Inside business hours on a business day, by the local wall clock (opening inclusive, closing exclusive). */
export function isBusinessMoment(instant: Date, zone: string, cal: BusinessCalendar): boolean {
  if (cal.businessHours === 'always') return true;
  const wallMs = wallMsOf(instant.getTime(), zone);
  const dayNumber = dayNumberOfWall(wallMs);
  if (!isBusinessDayNumber(dayNumber, cal)) return false;
  const sinceMidnight = wallMs - dayNumber * DAY_MS;
  const { opens, closes } = openingHours(cal);
  return sinceMidnight >= opens && sinceMidnight < closes;
}

/** The instant itself when it is a business moment, else the next opening of business hours. */
export function nextBusinessMoment(instant: Date, zone: string, cal: BusinessCalendar): Date {
  if (isBusinessMoment(instant, zone, cal)) return instant;
  const instantMs = instant.getTime();
  const { opens } = openingHours(cal);
  const firstDay = dayNumberOfWall(wallMsOf(instantMs, zone));
  for (let dayNumber = firstDay; dayNumber <= firstDay + MAX_DAYS_SEARCHED; dayNumber += 1) {
    if (!isBusinessDayNumber(dayNumber, cal)) continue;
    const opening = instantForWallNotBefore(dayNumber * DAY_MS + opens, zone, instantMs);
    // A DST gap can swallow a short business day whole; then the day has no business moment.
    if (opening !== null && isBusinessMoment(new Date(opening), zone, cal)) return new Date(opening);
  }
  throw new RangeError(`no business day within ${MAX_DAYS_SEARCHED} days in ${zone}`);
}

function nthBusinessDayAfter(dayNumber: number, count: number, cal: BusinessCalendar): number {
  let found = 0;
  let current = dayNumber;
  for (let searched = 0; found < count; searched += 1) {
    if (searched > MAX_DAYS_SEARCHED) throw new RangeError(`no business day within ${MAX_DAYS_SEARCHED} days`);
    current += 1;
    if (isBusinessDayNumber(current, cal)) found += 1;
  }
  return current;
}

/**
 * `n` business days later at the same local wall-clock time (non-business days and holidays
 * are not counted). With `"always"`, calendar days. The result need not be inside business
 * hours: it keeps the original time of day.
 */
export function addBusinessDays(instant: Date, n: number, zone: string, cal: BusinessCalendar): Date {
  if (n <= 0) return instant;
  const wallMs = wallMsOf(instant.getTime(), zone);
  const dayNumber = dayNumberOfWall(wallMs);
  const target = nthBusinessDayAfter(dayNumber, n, cal);
  return new Date(instantForWall(wallMs + (target - dayNumber) * DAY_MS, zone));
}

/** `n` calendar days later at the same local wall-clock time, whatever DST does meanwhile. */
export function addCalendarDays(instant: Date, n: number, zone: string): Date {
  if (n === 0) return instant;
  return new Date(instantForWall(wallMsOf(instant.getTime(), zone) + n * DAY_MS, zone));
}

/**
 * The opening of the `n`-th business day after a local date (`n = 0`: the date itself if it
 * is a business day, else the next one). With `"always"` the opening is local midnight.
 */
export function startOfBusinessDayAfter(localDate: string, n: number, zone: string, cal: BusinessCalendar): Date {
  const dayNumber = dayNumberOfIsoDate(localDate);
  const target =
    n > 0 ? nthBusinessDayAfter(dayNumber, n, cal) : isBusinessDayNumber(dayNumber, cal) ? dayNumber : nthBusinessDayAfter(dayNumber, 1, cal);
  const opening = new Date(instantForWall(target * DAY_MS + openingHours(cal).opens, zone));
  return nextBusinessMoment(opening, zone, cal);
}

/**
 * T1's clock: `hours` of elapsed time counted only on business days (in the zone), so that
 * an interview ending on a Friday evening is not "late" for hours that fell on the weekend.
 * Every hour of a business day counts, evenings included. With `"always"`, plain hours.
 */
export function addBusinessClockHours(instant: Date, hours: number, zone: string, cal: BusinessCalendar): Date {
  if (cal.businessHours === 'always' || hours <= 0) return new Date(instant.getTime() + Math.max(0, hours) * HOUR_MS);
  let remaining = hours * HOUR_MS;
  let cursor = instant.getTime();
  for (let searched = 0; searched <= MAX_DAYS_SEARCHED; searched += 1) {
    const dayNumber = dayNumberOfWall(wallMsOf(cursor, zone));
    const nextMidnight = instantForWall((dayNumber + 1) * DAY_MS, zone);
    if (isBusinessDayNumber(dayNumber, cal)) {
      const countedToday = nextMidnight - cursor;
      if (remaining <= countedToday) return new Date(cursor + remaining);
      remaining -= countedToday;
    }
    cursor = nextMidnight;
  }
  throw new RangeError(`no business day within ${MAX_DAYS_SEARCHED} days in ${zone}`);
}

/** A short, locale-independent rendering for rule details, e.g. `Mon 2025-03-10 09:00 Europe/Paris`. */
export function describeInstant(instant: Date, zone: string): string {
  const wallMs = wallMsOf(instant.getTime(), zone);
  const weekday = weekdayOfDayNumber(dayNumberOfWall(wallMs));
  const label = weekday.charAt(0) + weekday.slice(1).toLowerCase();
  const isoWall = new Date(wallMs).toISOString();
  return `${label} ${isoWall.slice(0, 10)} ${isoWall.slice(11, 16)} ${zone}`;
}
