import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  applyMergePatch,
  parsePolicyDocument,
  resolvePolicyPatch,
  type PolicyDocument,
} from '../../../src/domain/policy-document.js';

function parsed(json: unknown): PolicyDocument {
  const result = parsePolicyDocument(json);
  if (!result.ok) throw new Error(`expected a valid document, got ${result.message}`);
  return result.document;
}

describe('applyMergePatch (RFC 7386)', () => {
  // The examples of RFC 7386, appendix A.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j patched with %j is %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it('modifies neither argument', () => {
    const target = { thankYou: { delayMinutes: 60 } };
    const patch = { thankYou: { delayMinutes: 30 } };
    applyMergePatch(target, patch);
    expect(target).toEqual({ thankYou: { delayMinutes: 60 } });
    expect(patch).toEqual({ thankYou: { delayMinutes: 30 } });
  });

  it('keeps a "__proto__" key as data instead of changing the prototype', () => {
    const merged = applyMergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(merged)).toEqual(['__proto__']);
  });
});

describe('parsePolicyDocument fills defaults', () => {
  it('an empty document is the default policy', () => {
    expect(parsed({})).toEqual(DEFAULT_POLICY);
  });

  it('fills defaults key by key inside a nested object', () => {
    const document = parsed({ thankYou: { delayMinutes: 0 } });
    expect(document.thankYou).toEqual({ ...DEFAULT_POLICY.thankYou, delayMinutes: 0 });
    expect(document.checkIn).toEqual(DEFAULT_POLICY.checkIn);
  });

  it('fills a partly given businessHours from the default hours', () => {
    expect(parsed({ businessHours: { start: '08:00' } }).businessHours).toEqual({ days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '08:00', end: '17:00' });
  });

  it('accepts "always" and template overrides', () => {
    const document = parsed({ businessHours: 'always', templates: { thankYou: { subject: 'Thank you — {{positionTitle}}' } } });
    expect(document.businessHours).toBe('always');
    expect(document.templates.thankYou?.subject).toBe('Thank you — {{positionTitle}}');
  });

  it('hands back a document that shares nothing with the defaults', () => {
    const document = parsed({});
    if (document.businessHours !== 'always') document.businessHours.days.push('SAT');
    document.holidays.push('2025-12-25');
    expect(DEFAULT_POLICY.businessHours).toEqual({ days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '09:00', end: '17:00' });
    expect(DEFAULT_POLICY.holidays).toEqual([]);
  });
});

describe('parsePolicyDocument names the offending key', () => {
  it.each([
    [{ thankYou: { delayMinutes: -1 } }, 'thankYou.delayMinutes', 'thankYou.delayMinutes: expected a whole number ≥ 0'],
    [{ thankYou: { delayMinutes: 1.5 } }, 'thankYou.delayMinutes', 'thankYou.delayMinutes: expected a whole number ≥ 0'],
    [{ thankYou: { delayMinutes: '120' } }, 'thankYou.delayMinutes', 'thankYou.delayMinutes: expected a whole number ≥ 0'],
    [{ thankYou: { deadlineHours: 72 } }, 'thankYou.graceHours', 'thankYou.graceHours: expected a whole number ≥ thankYou.deadlineHours'],
    [{ thankYou: { approval: 'maybe' } }, 'thankYou.approval', 'thankYou.approval: expected "auto" or "review"'],
    [{ thankYou: 5 }, 'thankYou', 'thankYou: expected an object'],
    [{ businessHours: 'never' }, 'businessHours', 'businessHours: expected "always" or an object { days, start, end }'],
    [{ businessHours: { start: '9:00' } }, 'businessHours.start', 'businessHours.start: expected a time HH:mm between 00:00 and 23:59'],
    [{ businessHours: { end: '24:00' } }, 'businessHours.end', 'businessHours.end: expected a time HH:mm between 00:00 and 23:59'],
    [{ businessHours: { start: '17:00', end: '09:00' } }, 'businessHours.end', 'businessHours.end: expected a time later than businessHours.start'],
    [{ businessHours: { days: [] } }, 'businessHours.days', 'businessHours.days: expected at least one weekday'],
    [{ businessHours: { days: ['MON', 'MON'] } }, 'businessHours.days', 'businessHours.days: expected each weekday at most once'],
    [{ businessHours: { days: ['MON', 'Friday'] } }, 'businessHours.days.1', 'businessHours.days.1: expected a weekday name (MON, TUE, WED, THU, FRI, SAT, SUN)'],
    [{ holidays: ['2025-12-25', '2025-02-30'] }, 'holidays.1', 'holidays.1: expected a date YYYY-MM-DD'],
    [{ holidays: '2025-12-25' }, 'holidays', 'holidays: expected a list of dates YYYY-MM-DD'],
    [{ maxMessagesPerRecipient: 0 }, 'maxMessagesPerRecipient', 'maxMessagesPerRecipient: expected a whole number ≥ 1'],
    [{ minSpacingBusinessDays: 1000 }, 'minSpacingBusinessDays', 'minSpacingBusinessDays: expected a whole number ≤ 60'],
    [{ panelConsistency: 'same' }, 'panelConsistency', 'panelConsistency: expected "personalized" or "uniform"'],
    [{ autoPlan: 'yes' }, 'autoPlan', 'autoPlan: expected true or false'],
    [{ templates: { thankYou: { body: 42 } } }, 'templates.thankYou.body', 'templates.thankYou.body: expected a string'],
    [{ templates: { thankYou: { body: 'x'.repeat(10_001) } } }, 'templates.thankYou.body', 'templates.thankYou.body: expected at most 10000 characters'],
  ])('%j → %s', (document, key, message) => {
    expect(parsePolicyDocument(document)).toEqual({ ok: false, key, message });
  });

  it.each([
    [{ thankyou: { delayMinutes: 0 } }, 'thankyou'],
    [{ thankYou: { delayMinute: 0 } }, 'thankYou.delayMinute'],
    [{ businessHours: { days: ['MON'], start: '09:00', end: '17:00', lunch: '12:00' } }, 'businessHours.lunch'],
    [{ templates: { thanks: { subject: 'Hi' } } }, 'templates.thanks'],
    [{ templates: { checkIn: { subject: 'Hi', footer: 'x' } } }, 'templates.checkIn.footer'],
  ])('refuses the unknown key in %j', (document, key) => {
    expect(parsePolicyDocument(document)).toEqual({ ok: false, key, message: `${key}: unknown key` });
  });

  it.each([[null], [[]], ['{}'], [42]])('refuses %j as a document', (document) => {
    expect(parsePolicyDocument(document)).toEqual({ ok: false, key: 'document', message: 'document: expected a JSON object' });
  });
});

describe('resolvePolicyPatch (merge, then validate)', () => {
  it('a null restores the default', () => {
    const custom = parsed({ thankYou: { delayMinutes: 30 }, minSpacingBusinessDays: 3 });
    const result = resolvePolicyPatch(custom, { thankYou: { delayMinutes: null }, minSpacingBusinessDays: null });
    expect(result).toEqual({ ok: true, document: { ...custom, thankYou: DEFAULT_POLICY.thankYou, minSpacingBusinessDays: 5 } });
  });

  it('a null for a whole section restores the whole section', () => {
    const custom = parsed({ businessHours: 'always' });
    const result = resolvePolicyPatch(custom, { businessHours: null });
    expect(result.ok && result.document.businessHours).toEqual(DEFAULT_POLICY.businessHours);
  });

  it('arrays replace rather than merge', () => {
    const custom = parsed({ holidays: ['2025-12-25', '2025-12-26'] });
    const result = resolvePolicyPatch(custom, { holidays: ['2026-01-01'] });
    expect(result.ok && result.document.holidays).toEqual(['2026-01-01']);
  });

  it('an object patch over "always" starts from the default hours', () => {
    const result = resolvePolicyPatch(parsed({ businessHours: 'always' }), { businessHours: { days: ['MON', 'TUE'] } });
    expect(result.ok && result.document.businessHours).toEqual({ days: ['MON', 'TUE'], start: '09:00', end: '17:00' });
  });

  it('validates the merged result, naming the key', () => {
    expect(resolvePolicyPatch(DEFAULT_POLICY, { thankYou: { graceHours: 12 } })).toEqual({
      ok: false,
      key: 'thankYou.graceHours',
      message: 'thankYou.graceHours: expected a whole number ≥ thankYou.deadlineHours',
    });
  });

  it.each([[null], [[{ op: 'replace' }]], ['x']])('refuses a patch that is not an object: %j', (patch) => {
    expect(resolvePolicyPatch(DEFAULT_POLICY, patch)).toEqual({ ok: false, key: 'document', message: 'document: expected a JSON object' });
  });
});
