import { describe, expect, it } from 'vitest';
import {
  asksAboutNextSteps,
  countWords,
  findPlaceholders,
  findPushyPhrases,
  hasLintErrors,
  lintMessage,
  mentionsTopic,
  WORD_LIMITS,
} from '../../../src/domain/lint.js';
import type { LintInput } from '../../../src/domain/lint.js';
import { addToIndex, letterSentences, type SentLetter, type SentLetterIndex, sentenceHash } from '../../../src/domain/sentence-overlap.js';
import { messageContext, renderMessage } from '../../../src/domain/templates.js';
import type { InterviewFacts, LintFinding, RuleId, StepKind } from '../../../src/domain/types.js';
import { createEnglishSpellChecker } from '../../../src/services/spell-checker.js';
import { interviewer, makeInterview, policyWith, recipientFor } from './message-fixtures.js';

const spell = createEnglishSpellChecker();

const SIGNATURE = 'Kind regards,\nAna María Núñez\nana.nunez@example.com\n+1 (415) 555-0134';

/** A thank-you to Grace Hopper that passes every rule; rows change one thing at a time. */
const GOOD_BODY = `Dear Grace Hopper,

Thank you for speaking with me about the Senior Data Engineer position.

I enjoyed our conversation about distributed systems.

I remain very interested in the role.

${SIGNATURE}`;

const GOOD_SUBJECT = 'Thank you for the interview: Senior Data Engineer';

function lintInput(overrides: Partial<LintInput> & { interview?: InterviewFacts } = {}): LintInput {
  const interview = overrides.interview ?? makeInterview();
  const kind = overrides.kind ?? 'thank_you';
  return {
    kind,
    channel: 'email',
    message: { subject: GOOD_SUBJECT, body: GOOD_BODY },
    recipient: recipientFor(interview, kind, 0),
    interview,
    policy: policyWith(),
    spell,
    ...overrides,
  };
}

function findingsOf(rule: RuleId, input: LintInput): LintFinding[] {
  return lintMessage(input).filter((finding) => finding.rule === rule);
}

function withBody(body: string, kind: StepKind = 'thank_you'): LintInput {
  return lintInput({ kind, message: { subject: GOOD_SUBJECT, body } });
}

function words(count: number): string {
  return Array.from({ length: count }, () => 'word').join(' ');
}

describe('the baseline message', () => {
  it('passes every rule', () => {
    expect(lintMessage(lintInput())).toEqual([]);
  });
});

describe('hasLintErrors', () => {
  it.each([
    { findings: [], expected: false },
    { findings: [{ rule: 'L5', level: 'warning', detail: 'x' }], expected: false },
    { findings: [{ rule: 'L5', level: 'warning', detail: 'x' }, { rule: 'L1', level: 'error', detail: 'y' }], expected: true },
  ] satisfies Array<{ findings: LintFinding[]; expected: boolean }>)('$expected for $findings.length findings', ({ findings, expected }) => {
    expect(hasLintErrors(findings)).toBe(expected);
  });
});

describe('L1 word count limits', () => {
  const greeting = 'Dear Grace Hopper,\n';
  const tail = '\ndistributed systems\nana.nunez@example.com';
  // The greeting, tail and filler add up to exactly `total` words.
  const bodyOf = (total: number): string => `${greeting}${words(total - 6)}${tail}`;

  it.each([
    { kind: 'thank_you', total: 200, fails: false },
    { kind: 'thank_you', total: 201, fails: true },
    { kind: 'check_in', total: 150, fails: false },
    { kind: 'check_in', total: 186, fails: true },
    { kind: 'final_check_in', total: 151, fails: true },
    { kind: 'keep_in_touch', total: 151, fails: true },
    { kind: 'respond_to_concerns', total: 140, fails: false },
    { kind: 'call_task', total: 151, fails: true },
  ] satisfies Array<{ kind: StepKind; total: number; fails: boolean }>)('$kind with $total words fails: $fails', ({ kind, total, fails }) => {
    const body = bodyOf(total);
    expect(countWords(body)).toBe(total);
    const findings = findingsOf('L1', withBody(body, kind));
    if (!fails) return expect(findings).toEqual([]);
    expect(findings).toEqual([{ rule: 'L1', level: 'error', detail: expect.stringContaining(`${total} words`) }]);
    expect(findings[0]?.detail).toContain(`at most ${WORD_LIMITS[kind]}`);
  });

  it('says precisely what is wrong', () => {
    expect(findingsOf('L1', withBody(bodyOf(186), 'check_in'))[0]?.detail).toBe('186 words; a check-in may have at most 150');
  });

  it('counts words, not punctuation or dashes', () => {
    expect(countWords('Hello, Grace – it’s me.\n\n— Ana')).toBe(5);
  });
});

describe('L2 subject names the position', () => {
  it.each([
    { subject: 'Thank you for the interview: Senior Data Engineer', channel: 'email', fails: false },
    { subject: 'Re: Thank you for the interview: Senior Data Engineer', channel: 'email', fails: false },
    { subject: 'thank you — senior   data-engineer interview', channel: 'email', fails: false },
    { subject: 'SENIOR DATA ENGINEER: thanks!', channel: 'linkedin', fails: false },
    { subject: 'Thank you', channel: 'email', fails: true },
    { subject: 'Re: Thank you!', channel: 'email', fails: true },
    { subject: 'Job interview', channel: 'email', fails: true },
    { subject: '', channel: 'email', fails: true },
    { subject: 'Thank you for the interview: Data Engineer', channel: 'email', fails: true },
    { subject: 'Thank you for the interview at Northwind Analytics', channel: 'linkedin', fails: true },
    // A text message shows no subject: it is kept for the record only.
    { subject: 'Thank you', channel: 'sms', fails: false },
    { subject: '', channel: 'handwritten', fails: false },
  ] as const)('"$subject" on $channel fails: $fails', ({ subject, channel, fails }) => {
    const findings = findingsOf('L2', lintInput({ channel, message: { subject, body: GOOD_BODY } }));
    expect(findings.map((finding) => finding.level)).toEqual(fails ? ['error'] : []);
  });

  it('tolerates a qualifier in brackets that the subject leaves out', () => {
    const interview = makeInterview({ positionTitle: 'Platform Engineer (Remote)' });
    const input = lintInput({ interview, message: { subject: 'Thank you for the interview: Platform Engineer', body: GOOD_BODY } });
    expect(findingsOf('L2', input)).toEqual([]);
  });

  it('names the position it expected', () => {
    const [finding] = findingsOf('L2', lintInput({ message: { subject: 'Thank you', body: GOOD_BODY } }));
    expect(finding?.detail).toContain('"Senior Data Engineer"');
  });
});

describe('L3 unresolved placeholders', () => {
  it.each([
    { text: 'Dear {{recipient.name}},', found: ['{{recipient.name}}'] },
    { text: 'Dear [Name], thank you', found: ['[Name]'] },
    { text: 'the role at [Company Name]', found: ['[Company Name]'] },
    { text: 'Best, [your name]', found: ['[your name]'] },
    { text: 'the role at <company>', found: ['<company>'] },
    { text: 'Dear {first_name},', found: ['{first_name}'] },
    { text: 'an unclosed {{ tag', found: ['{{'] },
    { text: 'Write to <ana@example.com> or see <https://example.com/x>', found: [] },
    { text: 'see [1] and [ok] and 2 < 3 > 1', found: [] },
    { text: 'Ana Núñez (she/her)', found: [] },
  ])('$text', ({ text, found }) => {
    expect(findPlaceholders(text)).toEqual(found);
  });

  it.each([
    { subject: GOOD_SUBJECT, body: GOOD_BODY, fails: false },
    { subject: GOOD_SUBJECT, body: GOOD_BODY.replace('Grace Hopper,', 'Grace Hopper, [Name]'), fails: true },
    { subject: 'Thank you for the interview: {{position.title}} Senior Data Engineer', body: GOOD_BODY, fails: true },
    { subject: GOOD_SUBJECT, body: `${GOOD_BODY}\n<ana.nunez@example.com>`, fails: false },
  ])('message row %# fails: $fails', ({ subject, body, fails }) => {
    const findings = findingsOf('L3', lintInput({ message: { subject, body } }));
    expect(findings.map((finding) => finding.level)).toEqual(fails ? ['error'] : []);
  });

  it('says where the placeholder is', () => {
    const [finding] = findingsOf('L3', withBody(GOOD_BODY.replace('the Senior', 'the [Position] Senior')));
    expect(finding?.detail).toBe('unresolved placeholder: "[Position]" in the body');
  });
});

describe('L4 greeting names this recipient', () => {
  const panel = makeInterview({
    interviewers: [
      interviewer({ id: 'grace', name: 'Grace Hopper', isPrimaryContact: true }),
      interviewer({ id: 'alan', name: 'Alan Turing' }),
      interviewer({ id: 'grace-2', name: 'Grace Lee' }),
      interviewer({ id: 'will', name: 'Will Okafor' }),
    ],
  });
  const toGrace = (body: string): LintInput => lintInput({ interview: panel, message: { subject: GOOD_SUBJECT, body } });

  it.each([
    { body: GOOD_BODY, problem: null },
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'Hello Grace,'), problem: null },
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'Dear Dr. Hopper,'), problem: null },
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'Dear Ms Hopper,'), problem: null },
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'dear grace hopper,'), problem: null },
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'Dear Hiring Manager,'), problem: 'does not name the recipient' },
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'Dear Alan Turing,'), problem: 'does not name the recipient Grace Hopper' },
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'Dear Alan Turing,'), problem: 'names another interviewer of this interview: Alan Turing' },
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'Dear Hopper,'), problem: 'does not name the recipient' },
    { body: `\n\n${GOOD_BODY}`, problem: null },
    { body: GOOD_BODY.replace('I remain', 'Please pass my thanks to Alan. I remain'), problem: 'Alan Turing' },
    { body: GOOD_BODY.replace('I remain', 'I also enjoyed meeting Alan Turing. I remain'), problem: 'Alan Turing' },
    { body: GOOD_BODY.replace('I remain', 'Dr. Turing was kind. I remain'), problem: 'Alan Turing' },
    // Two Graces on the panel: the bare first name proves nothing, the other's full name does.
    { body: GOOD_BODY.replace('Dear Grace Hopper,', 'Hello Grace,'), problem: null },
    { body: GOOD_BODY.replace('I remain', 'Grace Lee had great questions. I remain'), problem: 'Grace Lee' },
    // "will" in lowercase is a verb, not the interviewer Will Okafor.
    { body: GOOD_BODY.replace('I remain', 'I will remain'), problem: null },
    { body: GOOD_BODY.replace('I remain', 'Will had great questions. I remain'), problem: 'Will Okafor' },
  ])('row %#: $problem', ({ body, problem }) => {
    const findings = findingsOf('L4', toGrace(body));
    if (problem === null) return expect(findings).toEqual([]);
    expect(findings.every((finding) => finding.level === 'error')).toBe(true);
    expect(findings.map((finding) => finding.detail).join('\n')).toContain(problem);
  });

  it('does not read a word of the recipient’s own name as another interviewer', () => {
    const interview = makeInterview({
      interviewers: [interviewer({ id: 'a', name: 'Jordan Lee' }), interviewer({ id: 'b', name: 'Lee Chang' })],
    });
    const body = GOOD_BODY.replace('Dear Grace Hopper,', 'Dear Jordan Lee,');
    expect(findingsOf('L4', lintInput({ interview, message: { subject: GOOD_SUBJECT, body } }))).toEqual([]);
  });

  it('lets a call task greet the candidate and name the person to call, but no one else', () => {
    const interview = panel;
    const recipient = recipientFor(interview, 'call_task');
    const body = 'Hello Ana,\n\nPlease consider calling Grace Hopper about the Senior Data Engineer position.';
    const input = lintInput({ kind: 'call_task', interview, recipient, message: { subject: 'Reminder: Senior Data Engineer', body } });
    expect(findingsOf('L4', input)).toEqual([]);
    const mixedUp = { ...input, message: { ...input.message, body: `${body}\nAlan Turing may pick up.` } };
    expect(findingsOf('L4', mixedUp)[0]?.detail).toContain('Alan Turing');
  });
});

describe('L5 mentions a topic of this interview', () => {
  it.each([
    { topics: ['distributed systems'], line: 'I enjoyed our conversation about distributed systems.', warns: false },
    { topics: ['Distributed Systems'], line: 'I enjoyed our talk on DISTRIBUTED   SYSTEMS.', warns: false },
    { topics: ['migration to Kubernetes'], line: 'Our talk about the Kubernetes migrations stayed with me.', warns: false },
    { topics: ['data pipeline'], line: 'Your data pipelines sound fascinating.', warns: false },
    { topics: ['the on-call rotation'], line: 'Thanks for explaining how on-call works in the rotation.', warns: false },
    { topics: ['Café ordering app'], line: 'The cafe ordering app was a fun problem.', warns: false },
    { topics: ['distributed systems'], line: 'I enjoyed our conversation about the role.', warns: true },
    { topics: ['data quality'], line: 'I enjoyed discussing the data.', warns: true },
    { topics: [], line: 'I enjoyed our conversation about the role.', warns: true },
  ])('$topics in "$line" warns: $warns', ({ topics, line, warns }) => {
    const interview = makeInterview({ topics });
    const body = GOOD_BODY.replace('I enjoyed our conversation about distributed systems.', line);
    const findings = findingsOf('L5', lintInput({ interview, message: { subject: GOOD_SUBJECT, body } }));
    expect(findings.map((finding) => finding.level)).toEqual(warns ? ['warning'] : []);
  });

  it('is not asked of a call task, which goes to the candidate', () => {
    const interview = makeInterview();
    const input = lintInput({ kind: 'call_task', interview, recipient: recipientFor(interview, 'call_task'), message: { subject: 'x', body: 'Hello Ana,' } });
    expect(findingsOf('L5', input)).toEqual([]);
  });

  it('matches topics on word boundaries', () => {
    expect(mentionsTopic('We discussed Golang.', 'Go')).toBe(false);
    expect(mentionsTopic('We discussed Go.', 'Go')).toBe(true);
  });
});

describe('L6 not pushy', () => {
  it.each([
    { line: 'I have not heard from you since the interview.', pushy: true },
    { line: "I still haven't heard back.", pushy: true },
    { line: 'I haven’t heard anything yet.', pushy: true },
    { line: 'Please reply ASAP.', pushy: true },
    { line: 'Please let me know asap.', pushy: true },
    { line: 'This is urgent.', pushy: true },
    { line: 'I urgently need an answer.', pushy: true },
    { line: 'Kindly answer as soon as possible.', pushy: true },
    { line: 'Please respond by Friday.', pushy: true },
    { line: 'I expect a response this week.', pushy: true },
    { line: 'Get back to me immediately.', pushy: true },
    { line: 'This is my final reminder.', pushy: true },
    { line: 'Why have you not replied?', pushy: true },
    { line: 'I look forward to hearing from you.', pushy: false },
    { line: 'I would appreciate any update when convenient.', pushy: false },
    { line: 'We discussed the urgency-free culture.', pushy: true },
    { line: 'I learned a lot about the resurgent market.', pushy: false },
    { line: 'Thank you for the wasp-free office tour.', pushy: false },
  ])('"$line" pushy: $pushy', ({ line, pushy }) => {
    const findings = findingsOf('L6', withBody(GOOD_BODY.replace('I remain very interested in the role.', line)));
    expect(findings.map((finding) => finding.level)).toEqual(pushy ? ['error'] : []);
  });

  it('quotes what it found', () => {
    expect(findPushyPhrases('Please reply ASAP, it is urgent.')).toEqual(['Please reply', 'ASAP', 'urgent']);
  });
});

describe('L7 spelling', () => {
  it.each([
    { line: 'I remain very interested in the role.', unknown: [] },
    { line: 'I hope to recieve good news about the intervew.', unknown: ['recieve', 'intervew'] },
    { line: "I enjoyed the company's follow-up and its well-known culture.", unknown: [] },
    { line: 'Northwind Analytics’s approach to distributed systems impressed me.', unknown: [] },
    { line: 'Grace Hopper’s team meets on the 3rd floor at 10:30 on 2026-03-03.', unknown: [] },
    { line: 'Teh follow-upp was nice.', unknown: ['Teh', 'follow-upp'] },
    { line: 'Thank you; I will call +1 (415) 555-0134 or write to ana.nunez@example.com.', unknown: [] },
    { line: 'See https://github.com/anannunez/qwertzuiop for my work.', unknown: [] },
  ])('"$line"', ({ line, unknown }) => {
    const findings = findingsOf('L7', withBody(GOOD_BODY.replace('I remain very interested in the role.', line)));
    if (unknown.length === 0) return expect(findings).toEqual([]);
    expect(findings).toEqual([{ rule: 'L7', level: 'warning', detail: `words not in the English dictionary: ${unknown.join(', ')}` }]);
  });

  it('allows the names of the people, company, position and topics', () => {
    const interview = makeInterview({
      positionTitle: 'Kubernetes Platform Engineer',
      company: { name: 'Zyxtrion GmbH', preferredChannel: null, followUpStyle: 'standard', timezone: null },
      topics: ['Terraform modules'],
      interviewers: [interviewer({ id: 'x', name: 'Siobhán Ó Súilleabháin', isPrimaryContact: true })],
    });
    const body = `Dear Siobhán Ó Súilleabháin,\nThank you from Ana María Núñez for the Kubernetes Platform Engineer interview at Zyxtrion GmbH; Zyxtrion's Terraform modules impressed me.\nana.nunez@example.com`;
    const input = lintInput({ interview, recipient: recipientFor(interview, 'thank_you'), message: { subject: 'Kubernetes Platform Engineer', body } });
    expect(findingsOf('L7', input)).toEqual([]);
  });

  it('lists at most ten unknown words', () => {
    const gibberish = Array.from({ length: 12 }, (_, index) => `qzx${'abcdefghijkl'[index]}`).join(' ');
    const [finding] = findingsOf('L7', withBody(`${GOOD_BODY}\n${gibberish}`));
    expect(finding?.detail).toContain('(+2 more)');
  });

  it('uses the injected checker', () => {
    const knowsNothing = { correct: () => false };
    const [finding] = findingsOf('L7', lintInput({ spell: knowsNothing }));
    expect(finding?.detail).toContain('Thank');
    expect(finding?.detail).not.toContain('Grace');
  });
});

describe('L8 professional tone', () => {
  it.each([
    { line: 'I remain very interested in the role.', problem: null },
    { line: 'I remain very interested in the role! Truly.', problem: null },
    { line: 'I remain very interested in the role 😊', problem: 'emoji' },
    { line: 'I remain very interested in the role!!', problem: 'exclamation' },
    { line: 'I am gonna be a great fit.', problem: 'gonna' },
    { line: 'Thx for your time, btw.', problem: 'thx' },
    { line: 'Hope u liked my answers.', problem: '"u"' },
    { line: 'That was awesome sauce.', problem: 'awesome sauce' },
    { line: 'I REALLY want this job.', problem: 'REALLY' },
    { line: 'I worked in the U.S. on SQL and AWS.', problem: null },
    { line: 'Our talk about DISTRIBUTED SYSTEMS was great.', problem: null },
    { line: 'Acme® and Widget™ are their brands.', problem: null },
  ])('"$line" → $problem', ({ line, problem }) => {
    const findings = findingsOf('L8', withBody(GOOD_BODY.replace('I remain very interested in the role.', line)));
    if (problem === null) return expect(findings).toEqual([]);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.level).toBe('warning');
    expect(findings[0]?.detail).toContain(problem);
  });
});

describe('L9 carries the candidate’s contact details', () => {
  const noContacts = GOOD_BODY.replace('\nana.nunez@example.com\n+1 (415) 555-0134', '');
  it.each([
    { body: GOOD_BODY, warns: false },
    { body: noContacts, warns: true },
    { body: `${noContacts}\nANA.NUNEZ@EXAMPLE.COM`, warns: false },
    { body: `${noContacts}\n415.555.0134`, warns: false },
    { body: `${noContacts}\n+14155550134`, warns: false },
    { body: `${noContacts}\n555-0134`, warns: false },
    { body: `${noContacts}\n555-0199`, warns: true },
    { body: `${noContacts}\n+1 (415) 555-0199`, warns: true },
  ])('row %# warns: $warns', ({ body, warns }) => {
    const findings = findingsOf('L9', withBody(body));
    expect(findings.map((finding) => finding.level)).toEqual(warns ? ['warning'] : []);
  });

  it('names the details it looked for', () => {
    const [finding] = findingsOf('L9', withBody(noContacts));
    expect(finding?.detail).toContain('ana.nunez@example.com or +1 (415) 555-0134');
  });

  it('is not asked of the candidate’s own call task', () => {
    const interview = makeInterview();
    const input = lintInput({ kind: 'call_task', interview, recipient: recipientFor(interview, 'call_task'), message: { subject: 'x', body: 'Hello Ana,' } });
    expect(findingsOf('L9', input)).toEqual([]);
  });
});

describe('L10 a final check-in asks about next steps or the timeline', () => {
  it.each([
    { line: 'Could you let me know the next steps?', asks: true },
    { line: 'Is there an update on the timeline?', asks: true },
    { line: 'What is the expected time frame for a decision?', asks: true },
    { line: 'Would you be able to share where the process stands', asks: true },
    { line: 'Please let me know if there is any update on your decision.', asks: true },
    { line: 'I would appreciate hearing about the next step when convenient.', asks: true },
    { line: 'I look forward to the next steps.', asks: false },
    { line: 'Could you tell me more about the team?', asks: false },
    { line: 'I remain very interested in the role.', asks: false },
  ])('"$line" asks: $asks', ({ line, asks }) => {
    const body = GOOD_BODY.replace('I remain very interested in the role.', line);
    expect(asksAboutNextSteps(body)).toBe(asks);
    const findings = findingsOf('L10', withBody(body, 'final_check_in'));
    expect(findings.map((finding) => finding.level)).toEqual(asks ? [] : ['error']);
  });

  it.each(['thank_you', 'check_in', 'keep_in_touch'] as const)('is not asked of %s', (kind) => {
    expect(findingsOf('L10', withBody(GOOD_BODY, kind))).toEqual([]);
  });
});

describe('L11 uniform panel thank-yous differ only in greeting and personal line', () => {
  const panel = makeInterview({
    topics: ['distributed systems', 'data quality checks', 'on-call rotation'],
    interviewers: [
      interviewer({ id: 'grace', name: 'Grace Hopper', isPrimaryContact: true }),
      interviewer({ id: 'alan', name: 'Alan Turing' }),
      interviewer({ id: 'ada', name: 'Ada Lovelace' }),
    ],
  });
  const uniform = policyWith({ panelConsistency: 'uniform' });
  const siblingFor = (name: string, topic: string, extra = ''): { subject: string; body: string } => ({
    subject: GOOD_SUBJECT,
    body: GOOD_BODY.replace('Grace Hopper', name).replace('distributed systems', topic).replace('in the role.', `in the role.${extra}`),
  });

  it.each([
    { policy: uniform, siblings: [siblingFor('Alan Turing', 'data quality checks')], warnsAbout: [] },
    { policy: uniform, siblings: [siblingFor('Alan Turing', 'on-call rotation'), siblingFor('Ada Lovelace', 'distributed systems')], warnsAbout: [] },
    { policy: uniform, siblings: [siblingFor('Alan Turing', 'data quality checks', ' I admire your work.')], warnsAbout: [1] },
    {
      policy: uniform,
      siblings: [siblingFor('Alan Turing', 'data quality checks'), siblingFor('Ada Lovelace', 'on-call rotation', ' Extra line.')],
      warnsAbout: [2],
    },
    { policy: policyWith(), siblings: [siblingFor('Alan Turing', 'data quality checks', ' I admire your work.')], warnsAbout: [] },
    { policy: uniform, siblings: [], warnsAbout: [] },
  ])('row $#: warns about siblings $warnsAbout', ({ policy, siblings, warnsAbout }) => {
    const findings = findingsOf('L11', lintInput({ interview: panel, policy, panelSiblings: siblings }));
    expect(findings.map((finding) => finding.level)).toEqual(warnsAbout.map(() => 'warning'));
    warnsAbout.forEach((sibling, index) => expect(findings[index]?.detail).toContain(`panel sibling ${sibling} (`));
  });

  it('is only asked of thank-yous', () => {
    const sibling = siblingFor('Alan Turing', 'data quality checks', ' I admire your work.');
    expect(findingsOf('L11', lintInput({ kind: 'check_in', interview: panel, policy: uniform, panelSiblings: [sibling] }))).toEqual([]);
  });

  it('passes our own uniform thank-yous to a whole panel', () => {
    const rendered = panel.interviewers.map((_, index) => {
      const recipient = recipientFor(panel, 'thank_you', index);
      const context = messageContext({ kind: 'thank_you', recipient, interview: panel, zone: 'Europe/Paris', channel: 'email', panelConsistency: 'uniform' });
      return { recipient, message: renderMessage('thank_you', context) };
    });
    for (const [index, { recipient, message }] of rendered.entries()) {
      const siblings = rendered.filter((_, other) => other !== index).map((entry) => entry.message);
      const findings = lintMessage(lintInput({ interview: panel, recipient, message, policy: uniform, panelSiblings: siblings }));
      expect(findings).toEqual([]);
    }
  });
});

describe('L12 not canned', () => {
  // GOOD_BODY has three sentences between greeting and signature.
  const [first, second, third] = letterSentences(GOOD_BODY);
  const prior = (sentences: string[], letter: Partial<SentLetter> = {}): SentLetterIndex => {
    const index: SentLetterIndex = new Map();
    addToIndex(index, sentences.map(sentenceHash), { messageId: 'prior-message', candidateId: 'someone-else', companyId: 'company-1', address: 'grace@employer.example', sentenceCount: 3, ...letter });
    return index;
  };
  const self = { candidateId: 'cand-1', companyId: 'company-1', address: 'int-grace@employer.example' };

  it.each([
    { name: 'all three sentences, same company', sentences: [first!, second!, third!], letter: {}, self, held: true },
    { name: 'two of three, same company', sentences: [first!, second!], letter: {}, self, held: true },
    { name: 'one of three (at most half), same company', sentences: [first!], letter: {}, self, held: false },
    { name: 'all three, another company but the same address', sentences: [first!, second!, third!], letter: { companyId: 'company-2', address: 'int-grace@employer.example' }, self, held: true },
    { name: 'all three, another company and address', sentences: [first!, second!, third!], letter: { companyId: 'company-2' }, self, held: false },
    { name: 'all three, by the same candidate', sentences: [first!, second!, third!], letter: { candidateId: 'cand-1' }, self, held: false },
  ])('$name: held $held', ({ sentences, letter, self: identity, held }) => {
    const findings = findingsOf('L12', lintInput({ canned: { index: prior(sentences, letter), self: identity, messageId: 'this-message' } }));
    if (!held) return expect(findings).toEqual([]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'L12', level: 'error' });
    expect(findings[0]!.detail).toContain('prior-message');
    expect(findings[0]!.detail).toContain('this-message');
  });

  it('is not checked without the index, nor for a text message', () => {
    const index = prior([first!, second!, third!]);
    expect(findingsOf('L12', lintInput())).toEqual([]);
    expect(findingsOf('L12', lintInput({ channel: 'sms', canned: { index, self } }))).toEqual([]);
  });
});
