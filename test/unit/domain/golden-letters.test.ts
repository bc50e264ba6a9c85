import { describe, expect, it } from 'vitest';
import type { WritingStyle } from '../../../src/domain/policy-document.js';
import { sharedSentenceRatio } from '../../../src/domain/sentence-overlap.js';
import { messageContext, renderMessage } from '../../../src/domain/templates.js';
import type { StepKind } from '../../../src/domain/types.js';
import { interviewer, makeInterview, recipientFor } from './message-fixtures.js';

// Golden letters: full letters of every kind, in both locales, as they leave the service. They
// live in test/golden/letters/ to be read aloud and reviewed; a change to our wording shows up
// here as a diff to read, not only as a count.

const panel = makeInterview({
  positionTitle: 'Senior Data Engineer',
  timezone: 'America/Los_Angeles',
  startsAt: new Date('2026-12-08T18:00:00Z'),
  endsAt: new Date('2026-12-08T19:00:00Z'),
  decisionExpectedBy: new Date('2026-12-15T20:00:00Z'),
  topics: ['streaming pipelines', 'data contracts', 'on-call practices'],
  highlights: 'six years of running Kafka in production',
  leftOut: 'I also mentor two junior engineers',
  resourceUrl: 'https://example.org/schema-evolution',
  candidate: { ...makeInterview().candidate, id: 'cand-golden', name: 'Ada Lovelace', email: 'ada@example.com', phone: '+14155550123', linkedinUrl: null },
  interviewers: [
    interviewer({ id: 'kenji', name: 'Dr. Kenji Watanabe', title: 'VP of Engineering', isPrimaryContact: true, topics: ['query planning'] }),
    interviewer({ id: 'grace', name: 'Grace Hopper' }),
    interviewer({ id: 'alan', name: 'Alan Turing', title: 'Staff Engineer' }),
  ],
});

const STYLES: Record<string, WritingStyle> = {
  'en-US': { greeting: 'first_name', locale: 'en-US' },
  'en-GB-formal': { greeting: 'formal', locale: 'en-GB' },
};

function render(kind: StepKind, index: number, writing: WritingStyle): string {
  const recipient = recipientFor(panel, kind, index);
  const message = renderMessage(kind, messageContext({ kind, recipient, interview: panel, zone: 'UTC', channel: 'email', writing }));
  return `To: ${recipient.name}\nSubject: ${message.subject}\n\n${message.body}\n`;
}

describe('golden letters', () => {
  for (const [style, writing] of Object.entries(STYLES)) {
    it(`a panel of three thank-yous (${style})`, async () => {
      const letters = [0, 1, 2].map((index) => render('thank_you', index, writing));
      for (let a = 0; a < 3; a += 1) for (let b = a + 1; b < 3; b += 1) expect(sharedSentenceRatio(letters[a]!, letters[b]!)).toBe(0);
      await expect(letters.join('\n-----\n\n')).toMatchFileSnapshot(`../../golden/letters/thank-you-panel.${style}.txt`);
    });
    for (const kind of ['check_in', 'final_check_in', 'keep_in_touch', 'respond_to_concerns'] as const) {
      it(`${kind} (${style})`, async () => {
        await expect(render(kind, 0, writing)).toMatchFileSnapshot(`../../golden/letters/${kind.replaceAll('_', '-')}.${style}.txt`);
      });
    }
  }
});
