import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LETTER_WORDINGS } from '../../../src/domain/letter-wording.js';
import { lintMessage } from '../../../src/domain/lint.js';
import { greetingName } from '../../../src/domain/message-text.js';
import type { WritingStyle } from '../../../src/domain/policy-document.js';
import { letterSentences, sharedSentenceRatio } from '../../../src/domain/sentence-overlap.js';
import { formatPhone, messageContext, renderMessage } from '../../../src/domain/templates.js';
import type { InterviewFacts, StepKind } from '../../../src/domain/types.js';
import { createEnglishSpellChecker } from '../../../src/services/spell-checker.js';
import { interviewer, makeInterview, personNameArb, policyWith, REALISTIC_TOPICS, recipientFor } from './message-fixtures.js';

// Letters that differ, for reasons (issue 12): what each person discussed, the debrief, the
// greeting and date style, and wording that varies per (candidate, recipient, kind).

const spell = createEnglishSpellChecker();

function letter(interview: InterviewFacts, kind: StepKind, index = 0, writing?: WritingStyle, panelConsistency: 'personalized' | 'uniform' = 'personalized') {
  const recipient = recipientFor(interview, kind, index);
  const context = messageContext({ kind, recipient, interview, zone: 'UTC', channel: 'email', writing, panelConsistency });
  const message = renderMessage(kind, context);
  return { context, message, recipient };
}

const panel = makeInterview({
  timezone: 'America/Los_Angeles',
  startsAt: new Date('2026-12-08T18:00:00Z'),
  endsAt: new Date('2026-12-08T19:00:00Z'),
  decisionExpectedBy: new Date('2026-12-15T20:00:00Z'),
  topics: ['streaming pipelines', 'data contracts', 'on-call practices'],
  highlights: 'six years of running Kafka in production',
  leftOut: 'I also mentor two junior engineers.',
  resourceUrl: 'https://example.org/schema-evolution',
  interviewers: [
    interviewer({ id: 'kenji', name: 'Dr. Kenji Watanabe', title: 'VP of Engineering', isPrimaryContact: true, topics: ['query planning'] }),
    interviewer({ id: 'grace', name: 'Grace Hopper' }),
    interviewer({ id: 'alan', name: 'Alan Turing', title: 'Staff Engineer', honorific: 'Prof.' }),
  ],
});

describe('greetings', () => {
  it.each([
    { name: 'Dr. Kenji Watanabe', honorific: null, style: 'first_name', locale: 'en-US', expected: 'Kenji' },
    { name: 'Dr. Kenji Watanabe', honorific: null, style: 'formal', locale: 'en-US', expected: 'Dr. Watanabe' },
    { name: 'Dr. Kenji Watanabe', honorific: null, style: 'formal', locale: 'en-GB', expected: 'Dr Watanabe' },
    { name: 'Kenji Watanabe', honorific: 'Prof.', style: 'formal', locale: 'en-US', expected: 'Prof. Watanabe' },
    { name: 'Kenji Watanabe', honorific: 'ms', style: 'formal', locale: 'en-US', expected: 'Ms. Watanabe' },
    { name: 'Kenji Watanabe', honorific: null, style: 'formal', locale: 'en-US', expected: 'Kenji Watanabe' },
    { name: 'María José García López', honorific: 'Dr.', style: 'formal', locale: 'en-GB', expected: 'Dr José García López' },
    { name: 'Cher', honorific: 'Ms.', style: 'formal', locale: 'en-US', expected: 'Cher' },
  ] as const)('$style/$locale greets $name ($honorific) as "Dear $expected,"', ({ name, honorific, style, locale, expected }) => {
    expect(greetingName(name, honorific, style, locale)).toBe(expected);
  });

  it('opens every letter with the greeting line alone, and it passes L4', () => {
    for (const writing of [{ greeting: 'formal', locale: 'en-US' }, { greeting: 'first_name', locale: 'en-GB' }] as const) {
      panel.interviewers.forEach((_, index) => {
        const { message, recipient } = letter(panel, 'thank_you', index, writing);
        const findings = lintMessage({ kind: 'thank_you', channel: 'email', message, recipient, interview: panel, policy: policyWith({ writing }), spell });
        expect(findings.filter((finding) => finding.level === 'error')).toEqual([]);
        expect(message.body.split('\n')[1]).toBe('');
      });
    }
    expect(letter(panel, 'thank_you', 0, { greeting: 'formal', locale: 'en-US' }).message.body).toMatch(/^Dear Dr\. Watanabe,\n\n/);
    expect(letter(panel, 'thank_you', 2, { greeting: 'formal', locale: 'en-GB' }).message.body).toMatch(/^Dear Prof Turing,\n\n/);
  });
});

describe('dates, numbers and punctuation', () => {
  it('writes one date for the whole panel, in the interview zone, the locale\'s way', () => {
    const us = panel.interviewers.map((_, index) => letter(panel, 'thank_you', index).context.interview.date);
    expect(new Set(us)).toEqual(new Set(['Tuesday, December 8']));
    expect(letter(panel, 'thank_you', 0, { greeting: 'first_name', locale: 'en-GB' }).context.interview.date).toBe('Tuesday 8 December');
  });

  it('puts a comma after an American date when the sentence goes on, and none in British English', () => {
    for (let index = 0; index < 3; index += 1) {
      const us = letter(panel, 'thank_you', index).message.body;
      expect(us).not.toMatch(/December 8 (?!\d)[a-z]/);
      expect(us).not.toMatch(/Tuesday 8 December,/);
      const gb = letter(panel, 'thank_you', index, { greeting: 'first_name', locale: 'en-GB' }).message.body;
      expect(gb).not.toMatch(/8 December,/);
      expect(gb).not.toMatch(/December 8/);
    }
  });

  it('formats phone numbers for a person', () => {
    expect(formatPhone('+14155550123')).toBe('+1 415 555 0123');
    expect(formatPhone('+447700900123')).toBe('+44 7700 900123');
    expect(formatPhone('not a number')).toBe('not a number');
    expect(formatPhone(null)).toBe('');
  });

  it('has no stray line breaks: paragraphs apart by one blank line, no line ends in a space, sentences end with punctuation or a link', () => {
    for (const kind of ['thank_you', 'check_in', 'final_check_in', 'keep_in_touch', 'respond_to_concerns'] as const) {
      const { body } = letter(panel, kind).message;
      expect(body, kind).not.toMatch(/\n{3,}|[ \t]\n| {2,}|\s[,.;:]|,,|\.\./);
      const paragraphs = body.split('\n\n');
      const [greeting, ...rest] = paragraphs;
      expect(greeting).toMatch(/^Dear [^\n]+,$/);
      const signOff = rest.pop()!;
      expect(signOff.split('\n')[0]).toMatch(/^[A-Z][a-z]+(?: [a-z]+)*(?: [a-z]+)?,$/);
      for (const paragraph of rest) {
        expect(paragraph, kind).not.toContain('\n');
        expect(paragraph, kind).toMatch(/(?:[.?]|https:\/\/\S+)$/);
      }
    }
  });
});

describe('what each letter says', () => {
  it('names what this person discussed first, their role, the highlights and what was left out', () => {
    const kenji = letter(panel, 'thank_you', 0).message.body;
    expect(kenji).toContain('query planning');
    expect(kenji).toContain('VP of Engineering');
    expect(kenji).toContain('six years of running Kafka in production');
    expect(kenji).toMatch(/(?:did not (?:mention|get to mention|say)|left out)[^:]*: I also mentor two junior engineers\./);
    const grace = letter(panel, 'thank_you', 1).message.body;
    expect(grace).not.toContain('query planning');
    expect(grace).toContain('data contracts');
  });

  it('opens the check-in with the resource, and the final check-in with a topic not used with that person', () => {
    const thankYou = letter(panel, 'thank_you', 0).context.topic;
    const checkIn = letter(panel, 'check_in', 0);
    const final = letter(panel, 'final_check_in', 0);
    expect(checkIn.message.body.split('\n\n')[1]).toContain('https://example.org/schema-evolution');
    expect(final.context.topic).not.toBe(thankYou);
    expect(final.message.body.split('\n\n')[1]).toContain(final.context.topic);
    const noLink = { ...panel, resourceUrl: null };
    const topics = ['thank_you', 'check_in', 'final_check_in'].map((kind) => letter(noLink, kind as StepKind, 0).context.topic);
    expect(new Set(topics).size).toBe(3);
    expect(letter(noLink, 'check_in', 0).message.body.split('\n\n')[1]).toContain(topics[1]);
  });

  it('always asks about next steps in the final check-in (L10), whatever the wording', () => {
    for (let candidate = 0; candidate < 40; candidate += 1) {
      const interview = { ...panel, candidate: { ...panel.candidate, id: `cand-${candidate}` } };
      const { message, recipient } = letter(interview, 'final_check_in', 0);
      const findings = lintMessage({ kind: 'final_check_in', channel: 'email', message, recipient, interview, policy: policyWith(), spell });
      expect(findings.filter((finding) => finding.rule === 'L10')).toEqual([]);
    }
  });

  it('writes the same panel the same way every time (deterministic)', () => {
    expect(letter(panel, 'thank_you', 1).message).toEqual(letter(panel, 'thank_you', 1).message);
  });

  it('gives a uniform panel one wording (L11)', () => {
    const bodies = [0, 1, 2].map((index) => letter({ ...panel, interviewers: panel.interviewers.map((p) => ({ ...p, topics: [], title: null })) }, 'thank_you', index, undefined, 'uniform'));
    const withoutGreeting = bodies.map(({ message }) => message.body.split('\n\n').slice(1).join('\n\n'));
    expect(new Set(withoutGreeting).size).toBe(1);
  });
});

describe('every wording slot', () => {
  it('has six wordings for the thank-you, check-in and final check-in, and no two share a sentence', () => {
    for (const kind of ['thank_you', 'check_in', 'final_check_in'] as const) {
      for (const slot of LETTER_WORDINGS[kind]!.paragraphs.flat()) {
        expect(slot.variants.length, slot.id).toBe(6);
        expect(new Set(slot.variants).size, slot.id).toBe(6);
      }
    }
  });
});

describe('the shared-sentence ratio', () => {
  it('ignores greeting and signature', () => {
    expect(letterSentences('Dear Kenji,\n\nThank you. It was fun.\n\nKind regards,\nAda Lovelace\nada@example.com')).toEqual(['thank you.', 'it was fun.']);
    expect(sharedSentenceRatio('Dear A,\n\nOne. Two.\n\nBest regards,\nX', 'Dear B,\n\nOne. Three.\n\nSincerely,\nX')).toBe(0.5);
  });

  // Issue 12 (a): no two letters of one panel share more than half of their sentences beyond
  // greeting and signature, with our wording, for any panel of 2-6 people.
  it('stays at or below 0.5 for every pair of a panel of 2-6 (property)', () => {
    const panelArb = fc.record({
      names: fc.uniqueArray(personNameArb, { minLength: 2, maxLength: 6, selector: (name) => name.split(' ')[0] }),
      topics: fc.uniqueArray(fc.constantFrom(...REALISTIC_TOPICS), { maxLength: 4 }),
      candidateId: fc.uuid(),
      titles: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      highlights: fc.option(fc.constant('a decade of SQL tuning')),
      leftOut: fc.option(fc.constant('I speak fluent Portuguese')),
      kind: fc.constantFrom<StepKind>('thank_you'),
    });
    fc.assert(
      fc.property(panelArb, ({ names, topics, candidateId, titles, highlights, leftOut, kind }) => {
        const interview = makeInterview({
          topics,
          highlights,
          leftOut,
          candidate: { ...makeInterview().candidate, id: candidateId },
          interviewers: names.map((name, index) => interviewer({ id: `p${index}`, name, title: titles[index] ? 'Engineering Manager' : null, isPrimaryContact: index === 0 })),
        });
        const bodies = names.map((_, index) => letter(interview, kind, index).message.body);
        for (let a = 0; a < bodies.length; a += 1) {
          for (let b = a + 1; b < bodies.length; b += 1) expect(sharedSentenceRatio(bodies[a]!, bodies[b]!)).toBeLessThanOrEqual(0.5);
        }
      }),
      { numRuns: 200 },
    );
  });
});
