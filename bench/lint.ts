import { performance } from 'node:perf_hooks';
import { lintMessage } from '../src/domain/lint.js';
import { DEFAULT_POLICY } from '../src/domain/policy-document.js';
import { addToIndex, letterHashes, type SentLetterIndex } from '../src/domain/sentence-overlap.js';
import { messageContext, renderMessage } from '../src/domain/templates.js';
import type { InterviewFacts, Recipient } from '../src/domain/types.js';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { median } from './support.js';

// What writing and linting one letter costs (pure, no database): the rules L1-L11 alone (the
// baseline, as before L12), and with L12 against the letters 50, then 2,000, other candidates
// sent to the same company (the worker reads them once per batch; that query is not timed here). Rounds alternate after a warm-up; the ratio is the median of the
// rounds' ratios.

const ROUNDS = 7;
const MESSAGES = 400;
const PRIOR_LETTERS = 2_000;
const SMALL_PRIOR_LETTERS = 50;

function interviewOf(candidate: number): InterviewFacts {
  return {
    id: `iv-${candidate}`,
    positionTitle: 'Senior Data Engineer',
    startsAt: new Date('2026-12-08T18:00:00Z'),
    endsAt: new Date('2026-12-08T19:00:00Z'),
    timezone: 'America/Los_Angeles',
    channel: 'email',
    decisionExpectedBy: new Date('2026-12-15T20:00:00Z'),
    callBackExpectedBy: null,
    topics: ['streaming pipelines', 'data contracts', 'on-call practices'],
    highlights: 'six years of running Kafka in production',
    leftOut: 'I also mentor two junior engineers',
    resourceUrl: null,
    status: 'scheduled',
    outcome: null,
    outcomeAt: null,
    company: { id: 'company-1', name: 'Northwind Analytics', preferredChannel: null, followUpStyle: 'standard', timezone: null },
    candidate: { id: `cand-${candidate}`, name: 'Ada Lovelace', email: `ada${candidate}@example.com`, phone: '+14155550123', timezone: null, consent: true, linkedinUrl: null, signature: null },
    interviewers: [
      { id: `k-${candidate}`, name: 'Dr. Kenji Watanabe', email: 'kenji@northwind.example', phone: null, title: 'VP of Engineering', timezone: null, preferredChannel: null, isPrimaryContact: true, topics: ['query planning'] },
      { id: `g-${candidate}`, name: 'Grace Hopper', email: 'grace@northwind.example', phone: null, title: null, timezone: null, preferredChannel: null, isPrimaryContact: false },
      { id: `a-${candidate}`, name: 'Alan Turing', email: 'alan@northwind.example', phone: null, title: 'Staff Engineer', timezone: null, preferredChannel: null, isPrimaryContact: false },
    ],
  };
}

export async function lintBenchmark(): Promise<void> {
  const spell = createEnglishSpellChecker();
  const letters = Array.from({ length: MESSAGES }, (_, index) => {
    const interview = interviewOf(PRIOR_LETTERS + index);
    const person = interview.interviewers[index % 3]!;
    const recipient: Recipient = { interviewerId: person.id, name: person.name, email: person.email, phone: null, timezone: null };
    const message = renderMessage('thank_you', messageContext({ kind: 'thank_you', recipient, interview, zone: 'UTC', channel: 'email' }));
    return { interview, recipient, message };
  });
  const index: SentLetterIndex = new Map();
  const small: SentLetterIndex = new Map();
  for (let candidate = 0; candidate < PRIOR_LETTERS; candidate += 1) {
    const interview = interviewOf(candidate);
    const person = interview.interviewers[candidate % 3]!;
    const recipient: Recipient = { interviewerId: person.id, name: person.name, email: person.email, phone: null, timezone: null };
    const { body } = renderMessage('thank_you', messageContext({ kind: 'thank_you', recipient, interview, zone: 'UTC', channel: 'email' }));
    const letter = { messageId: `m-${candidate}`, candidateId: interview.candidate.id, companyId: 'company-1', address: person.email, sentenceCount: 6 };
    addToIndex(index, letterHashes(body), letter);
    if (candidate < SMALL_PRIOR_LETTERS) addToIndex(small, letterHashes(body), letter);
  }

  const run = (against: SentLetterIndex | null): number => {
    const started = performance.now();
    for (const { interview, recipient, message } of letters) {
      lintMessage({
        kind: 'thank_you',
        channel: 'email',
        message,
        recipient,
        interview,
        policy: DEFAULT_POLICY,
        spell,
        canned: against ? { index: against, self: { candidateId: interview.candidate.id, companyId: 'company-1', address: recipient.email } } : undefined,
      });
    }
    return ((performance.now() - started) * 1000) / letters.length;
  };
  const render = (): number => {
    const started = performance.now();
    for (const { interview, recipient } of letters) renderMessage('thank_you', messageContext({ kind: 'thank_you', recipient, interview, zone: 'UTC', channel: 'email' }));
    return ((performance.now() - started) * 1000) / letters.length;
  };

  run(null);
  run(small);
  run(index);
  render();
  const before: number[] = [];
  const typical: number[] = [];
  const after: number[] = [];
  const renders: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    before.push(run(null));
    typical.push(run(small));
    after.push(run(index));
    renders.push(render());
  }
  const ratio = (values: number[]) => median(before.map((value, i) => (values[i] ?? value) / value)).toFixed(2);
  console.log(
    `lint: ${median(before).toFixed(1)} µs/message with L1-L11 (baseline); with L12 against ${SMALL_PRIOR_LETTERS} prior letters to the company ` +
      `${median(typical).toFixed(1)} µs (ratio ${ratio(typical)}), against ${PRIOR_LETTERS} ${median(after).toFixed(1)} µs (ratio ${ratio(after)}); ` +
      `rendering a letter ${median(renders).toFixed(1)} µs`,
  );
}
