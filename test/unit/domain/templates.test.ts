import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LETTER_WORDINGS } from '../../../src/domain/letter-wording.js';
import { asksAboutNextSteps, countWords, lintMessage } from '../../../src/domain/lint.js';
import { splitPersonName } from '../../../src/domain/message-text.js';
import {
  BUILT_IN_TEMPLATES,
  TEMPLATE_KEY_BY_KIND,
  TEMPLATE_VARIABLES,
  TemplateRenderError,
  chooseTopic,
  formatLongDate,
  joinAsEnglishList,
  messageContext,
  renderMessage,
  templateSyntaxProblem,
} from '../../../src/domain/templates.js';
import type { MessageContext } from '../../../src/domain/templates.js';
import type { Channel, InterviewFacts, LintFinding, RenderedMessage, StepKind } from '../../../src/domain/types.js';
import { createEnglishSpellChecker } from '../../../src/services/spell-checker.js';
import { ALL_CHANNELS, ALL_KINDS, interviewArb, interviewer, makeInterview, policyWith, recipientFor } from './message-fixtures.js';

const spell = createEnglishSpellChecker();

interface Rendering {
  kind: StepKind;
  channel: Channel;
  interview: InterviewFacts;
  interviewerIndex: number;
  context: MessageContext;
  message: RenderedMessage;
  findings: LintFinding[];
}

function renderAndLint(kind: StepKind, channel: Channel, interview: InterviewFacts, interviewerIndex = 0, zone = 'Europe/London'): Rendering {
  const recipient = recipientFor(interview, kind, interviewerIndex);
  const context = messageContext({ kind, recipient, interview, zone, channel });
  const message = renderMessage(kind, context);
  const findings = lintMessage({ kind, channel, message, recipient, interview, policy: policyWith(), spell });
  return { kind, channel, interview, interviewerIndex, context, message, findings };
}

/** What every built-in rendering must satisfy, whatever the inputs. */
function expectWellFormed({ kind, channel, interview, interviewerIndex, context, message, findings }: Rendering): void {
  const hasTopics = interview.topics.some((topic) => topic.trim().length > 0);
  // The only finding our own text may draw: L5 when there is no topic left to mention (none
  // recorded, or a check-in whose topics were all used with this person already).
  const unexpected = findings.filter((finding) => !(finding.rule === 'L5' && (!hasTopics || context.topic === '')));
  expect(unexpected, `${kind}/${channel}:\n${message.subject}\n${message.body}`).toEqual([]);

  expect(message.subject.toLowerCase()).toContain(context.position.title.toLowerCase());
  const firstLine = message.body.split('\n')[0] ?? '';
  expect(firstLine).toMatch(/^(Dear|Hello) .+,$/);
  if (kind !== 'call_task') {
    expect(firstLine).toBe(context.greeting);
    expect(firstLine).toBe(`Dear ${context.recipient.firstName},`);
    expect(message.body).toContain(interview.candidate.email);
  }
  for (const [index, other] of interview.interviewers.entries()) {
    const mayBeNamed = kind === 'call_task' ? other.isPrimaryContact || index === 0 : index === interviewerIndex;
    if (!mayBeNamed) expect(message.body).not.toContain(other.name);
  }
  if (hasTopics && kind !== 'call_task' && context.topic !== '') expect(message.body).toContain(context.topic);
  if (channel === 'sms') expect(message.body.length).toBeLessThanOrEqual(320);
  const words = countWords(message.body);
  expect(words).toBeLessThanOrEqual(kind === 'thank_you' ? 140 : 130);
  expect(message.body).not.toMatch(/\{\{|\}\}|\n{3,}|[ \t]\n/);
}

describe('messageContext', () => {
  const interview = makeInterview({
    startsAt: new Date('2026-03-03T23:30:00Z'),
    decisionExpectedBy: new Date('2026-03-17T12:00:00Z'),
    topics: ['  distributed systems ', 'data quality checks', '', 'Distributed Systems', 'on-call rotation'],
    interviewers: [
      interviewer({ id: 'grace', name: 'Dr. Grace Hopper', title: 'Engineering Manager', isPrimaryContact: true, phone: '+1 212 555 0199' }),
      interviewer({ id: 'alan', name: 'Alan Turing' }),
      interviewer({ id: 'ada', name: 'Ada Lovelace' }),
    ],
  });
  const contextFor = (index: number, zone = 'America/New_York', kind: StepKind = 'thank_you'): MessageContext =>
    messageContext({ kind, recipient: recipientFor(interview, kind, index), interview, zone, channel: 'email' });

  it('names the people, company and position', () => {
    const context = contextFor(0);
    expect(context.recipient).toEqual({ name: 'Dr. Grace Hopper', firstName: 'Grace', lastName: 'Hopper', title: 'Engineering Manager', honorific: 'Dr.' });
    expect(context.greeting).toBe('Dear Grace,');
    expect(context.candidate).toMatchObject({ name: 'Ana María Núñez', firstName: 'Ana', email: 'ana.nunez@example.com' });
    expect(context.contact).toEqual({ name: 'Dr. Grace Hopper', firstName: 'Grace', title: 'Engineering Manager', phone: '+1 212 555 0199' });
    expect(context.company.name).toBe('Northwind Analytics');
    expect(context.position.title).toBe('Senior Data Engineer');
  });

  // One date for the whole panel: the interview's own day (23:30Z is 18:30 in New York), even
  // for a recipient in Tokyo, where it is already Wednesday.
  it.each(['America/New_York', 'Asia/Tokyo', 'Not/AZone'])('writes the interview day in the interview\'s zone for a recipient in %s', (zone) => {
    expect(contextFor(1, zone).interview.date).toBe('Tuesday, March 3');
    expect(contextFor(1, zone).interview.dateInSentence).toBe('Tuesday, March 3,');
  });

  it('gives the decision date when known, and empty when not', () => {
    expect(contextFor(0).decision.date).toBe('Tuesday, March 17');
    const noDecision = messageContext({
      kind: 'check_in',
      recipient: recipientFor(interview, 'check_in'),
      interview: { ...interview, decisionExpectedBy: null },
      zone: 'UTC',
      channel: 'email',
    });
    expect(noDecision.decision.date).toBe('');
    expect(noDecision.callBack.date).toBe('');
  });

  it('lists the topics once each, cleaned', () => {
    expect(contextFor(0).topics).toBe('distributed systems, data quality checks and on-call rotation');
  });

  it('spreads the topics over the panel, the same way every time', () => {
    const topics = [0, 1, 2].map((index) => contextFor(index).topic);
    expect(new Set(topics).size).toBe(3);
    expect([0, 1, 2].map((index) => contextFor(index).topic)).toEqual(topics);
  });

  it('gives everyone the same topic with panelConsistency uniform', () => {
    const topics = [0, 1, 2].map(
      (index) =>
        messageContext({
          kind: 'thank_you',
          recipient: recipientFor(interview, 'thank_you', index),
          interview,
          zone: 'UTC',
          channel: 'email',
          panelConsistency: 'uniform',
        }).topic,
    );
    expect(topics).toEqual(['distributed systems', 'distributed systems', 'distributed systems']);
  });

  it('has an empty topic when the interview has none', () => {
    const context = messageContext({ kind: 'thank_you', recipient: recipientFor(interview, 'thank_you'), interview: { ...interview, topics: [] }, zone: 'UTC', channel: 'email' });
    expect(context.topic).toBe('');
    expect(context.topics).toBe('');
  });

  it('picks a stable topic for someone not on the panel', () => {
    const pick = (): string =>
      chooseTopic({ topics: ['a', 'b', 'c'], interview, personId: 'stranger', personName: 'Sam Stranger', panelConsistency: 'personalized' });
    expect(['a', 'b', 'c']).toContain(pick());
    expect(pick()).toBe(pick());
  });

  it('builds the signature from the contact details it has', () => {
    expect(contextFor(0).candidate.signature).toBe(
      'Ana María Núñez\nana.nunez@example.com\n+1 415 555 0134\nhttps://www.linkedin.com/in/ana-nunez',
    );
    const bare = { ...interview, candidate: { ...interview.candidate, phone: null, linkedinUrl: null } };
    const context = messageContext({ kind: 'thank_you', recipient: recipientFor(bare, 'thank_you'), interview: bare, zone: 'UTC', channel: 'email' });
    expect(context.candidate.signature).toBe('Ana María Núñez\nana.nunez@example.com');
    expect(context.candidate.phone).toBe('');
  });

  it("uses the candidate's own signature when given", () => {
    const own = { ...interview, candidate: { ...interview.candidate, signature: '  Ana Núñez, MSc\nana.nunez@example.com  ' } };
    const context = messageContext({ kind: 'thank_you', recipient: recipientFor(own, 'thank_you'), interview: own, zone: 'UTC', channel: 'email' });
    expect(context.candidate.signature).toBe('Ana Núñez, MSc\nana.nunez@example.com');
  });

  it('documents every variable it provides', () => {
    const leaves = (value: object, prefix = ''): string[] =>
      Object.entries(value).flatMap(([key, inner]) =>
        typeof inner === 'object' && inner !== null ? leaves(inner as object, `${prefix}${key}.`) : [`${prefix}${key}`],
      );
    // `choice` steers which of our wordings a letter takes; it is not for templates.
    const { choice: _choice, ...documented } = contextFor(0);
    expect(TEMPLATE_VARIABLES.map((variable) => variable.name).sort()).toEqual(leaves(documented).sort());
  });
});

describe('helpers', () => {
  it.each([
    { items: [], text: '' },
    { items: ['a'], text: 'a' },
    { items: ['a', 'b'], text: 'a and b' },
    { items: ['a', 'b', 'c'], text: 'a, b and c' },
  ])('joins $items as "$text"', ({ items, text }) => {
    expect(joinAsEnglishList(items)).toBe(text);
  });

  it('formats a day in a zone, falling back when the zone is unknown', () => {
    const instant = new Date('2026-12-31T23:00:00Z');
    expect(formatLongDate(instant, 'Europe/Berlin', 'UTC')).toBe('Friday, January 1');
    expect(formatLongDate(instant, 'Nowhere/Land', 'America/Chicago')).toBe('Thursday, December 31');
    expect(formatLongDate(instant, 'Europe/Berlin', 'UTC', 'en-GB')).toBe('Friday 1 January');
  });

  it.each([
    { name: 'Dr. Grace Hopper', first: 'Grace', last: 'Hopper' },
    { name: 'María José García López', first: 'María', last: 'López' },
    { name: "  Seán  O'Brien-Smith Jr. ", first: 'Seán', last: "O'Brien-Smith" },
    { name: 'Ada King, PhD', first: 'Ada', last: 'King' },
    { name: 'Cher', first: 'Cher', last: '' },
  ])('reads the name $name', ({ name, first, last }) => {
    expect(splitPersonName(name)).toMatchObject({ first, last });
  });
});

describe('built-in templates', () => {
  const accented = makeInterview({
    positionTitle: 'Principal Site Reliability Engineer, Payments Infrastructure (Remote)',
    company: { name: 'Müller & Söhne GmbH', preferredChannel: null, followUpStyle: 'standard', timezone: 'Europe/Berlin' },
    topics: ['the Kubernetes migration', "the team's mentoring programme", 'GDPR compliance', 'on-call rotation', 'A/B testing'],
    decisionExpectedBy: new Date('2026-03-20T12:00:00Z'),
    callBackExpectedBy: new Date('2026-03-06T12:00:00Z'),
    candidate: {
      id: 'c2',
      name: "Siobhán O'Connor-Ní Bhriain",
      email: 'siobhan.oconnor@mail.example',
      phone: null,
      timezone: 'Europe/Dublin',
      consent: true,
      linkedinUrl: null,
      signature: null,
    },
    interviewers: [
      interviewer({ id: 'a', name: 'Jean-Luc Dubois', title: 'Head of SRE', isPrimaryContact: true }),
      interviewer({ id: 'b', name: "D'Andre Østergaard" }),
      interviewer({ id: 'c', name: 'Zoë van der Berg' }),
    ],
  });
  const noTopics = makeInterview({ topics: [], positionTitle: 'Product Designer' });
  const ownSignature = makeInterview({
    candidate: { ...makeInterview().candidate, signature: 'Ana María Núñez\nData engineer, Lisbon\nana.nunez@example.com' },
  });

  const cases: Array<{ name: string; interview: InterviewFacts; index: number }> = [
    { name: 'the baseline', interview: makeInterview(), index: 0 },
    { name: 'the second panel member', interview: makeInterview(), index: 1 },
    { name: 'accents, hyphens, apostrophes, a long title and five topics', interview: accented, index: 1 },
    { name: 'no topics', interview: noTopics, index: 0 },
    { name: "the candidate's own signature", interview: ownSignature, index: 0 },
  ];

  for (const kind of ALL_KINDS) {
    describe(kind, () => {
      it.each(cases.flatMap((testCase) => ALL_CHANNELS.map((channel) => ({ ...testCase, channel }))))(
        '$name on $channel draws no lint error',
        ({ interview, index, channel }) => {
          expectWellFormed(renderAndLint(kind, channel, interview, index));
        },
      );
    });
  }

  it('draws no lint error for any realistic interview (property)', () => {
    fc.assert(
      fc.property(
        interviewArb,
        fc.constantFrom(...ALL_KINDS),
        fc.constantFrom(...ALL_CHANNELS),
        fc.nat(),
        fc.constantFrom('Europe/London', 'Asia/Kolkata', 'Pacific/Auckland', 'America/Denver'),
        (interview, kind, channel, pick, zone) => {
          expectWellFormed(renderAndLint(kind, channel, interview, pick % interview.interviewers.length, zone));
        },
      ),
      { numRuns: 300 },
    );
    // 300 letters linted in full (spelling included) take a few seconds on a quiet machine; the
    // limit leaves room for a machine shared with other work. It is not a timing assertion.
  }, 120_000);

  it('keeps a thank-you short: between 80 and 140 words by email', () => {
    for (const testCase of cases) {
      const words = countWords(renderAndLint('thank_you', 'email', testCase.interview, testCase.index).message.body);
      expect(words).toBeGreaterThanOrEqual(80);
      expect(words).toBeLessThanOrEqual(140);
    }
  });

  it('writes values as they are, without HTML escaping', () => {
    const { message } = renderAndLint('thank_you', 'email', accented, 1);
    expect(message.body).toContain('Müller & Söhne GmbH');
    expect(message.body).toContain("Dear D'Andre,");
    expect(message.body).not.toMatch(/&amp;|&#39;|&#x27;/);
  });

  it('puts a different topic in each panel member’s thank-you', () => {
    const bodies = accented.interviewers.map((_, index) => renderAndLint('thank_you', 'email', accented, index));
    expect(new Set(bodies.map((rendering) => rendering.context.topic)).size).toBe(3);
    bodies.forEach((rendering) => expect(rendering.message.body).toContain(rendering.context.topic));
  });

  it('asks about next steps in the final check-in, and mentions the decision date in the check-in', () => {
    expect(asksAboutNextSteps(renderAndLint('final_check_in', 'email', accented).message.body)).toBe(true);
    expect(renderAndLint('check_in', 'email', accented).message.body).toContain('Friday, March 20');
  });

  it('reminds the candidate whom to call, about what, and on which number', () => {
    const withPhone = renderAndLint('call_task', 'email', makeInterview()).message;
    expect(withPhone.subject).toBe('Reminder: call Grace Hopper about the Senior Data Engineer position');
    expect(withPhone.body).toMatch(/^Hello Ana,/);
    expect(withPhone.body).toContain('Phone: +1 212 555 0199');
    const withoutPhone = renderAndLint('call_task', 'email', accented).message;
    expect(withoutPhone.body).toContain('We do not have a phone number for Jean-Luc Dubois');
    expect(withoutPhone.body).toContain('by Friday, March 6');
  });

  it('threads a check-in under the thank-you subject without breaking L2', () => {
    const interview = makeInterview();
    const thankYou = renderAndLint('thank_you', 'email', interview).message;
    const checkIn = renderAndLint('check_in', 'email', interview).message;
    const recipient = recipientFor(interview, 'check_in');
    const threaded = { subject: `Re: ${thankYou.subject}`, body: checkIn.body };
    const findings = lintMessage({ kind: 'check_in', channel: 'email', message: threaded, recipient, interview, policy: policyWith(), spell });
    expect(findings).toEqual([]);
  });

  it('uses only dictionary words of its own', () => {
    const ownWords = new Set<string>();
    for (const text of ourTexts()) {
      for (const word of text.replace(/\{\{[^}]*\}\}/g, ' ').match(/[A-Za-z]+(?:'[A-Za-z]+)*/g) ?? []) ownWords.add(word);
    }
    expect(ownWords.size).toBeGreaterThan(100);
    expect([...ownWords].filter((word) => !spell.correct(word))).toEqual([]);
  });

  it('never presses for a reply', () => {
    for (const text of ourTexts()) expect(text).not.toMatch(/not heard|ASAP|urgent|as soon as possible|please reply|respond by/i);
  });
});

/** Every text of ours: the fixed templates and every wording of every letter. */
function ourTexts(): string[] {
  const fixed = Object.values(BUILT_IN_TEMPLATES).flatMap((templates) => [templates.full, templates.sms].filter((template) => template !== undefined));
  const letters = Object.values(LETTER_WORDINGS).flatMap((wording) => [
    ...wording!.subjects,
    ...wording!.closings,
    ...wording!.paragraphs.flat().flatMap((slot) => slot.variants),
  ]);
  return [...fixed.map((template) => `${template.subject}\n${template.body}`), ...letters];
}

describe('tenant overrides', () => {
  const interview = makeInterview();
  const recipient = recipientFor(interview, 'thank_you');
  const context = messageContext({ kind: 'thank_you', recipient, interview, zone: 'UTC', channel: 'email' });
  const lint = (message: RenderedMessage): LintFinding[] =>
    lintMessage({ kind: 'thank_you', channel: 'email', message, recipient, interview, policy: policyWith(), spell });

  it('replaces our subject and keeps our body', () => {
    const message = renderMessage('thank_you', context, { subject: 'Our chat about the {{position.title}} role' });
    expect(message.subject).toBe('Our chat about the Senior Data Engineer role');
    expect(message.body).toBe(renderMessage('thank_you', context).body);
  });

  it('replaces our body and keeps our subject', () => {
    const body = 'Hello {{recipient.firstName}},\n\nThanks for the talk on {{topic}}.\n\n{{candidate.signature}}';
    const message = renderMessage('thank_you', context, { body });
    expect(message.subject).toBe(renderMessage('thank_you', context).subject);
    expect(message.body).toBe(
      'Hello Grace,\n\nThanks for the talk on distributed systems.\n\nAna María Núñez\nana.nunez@example.com\n+1 415 555 0134\nhttps://www.linkedin.com/in/ana-nunez',
    );
    expect(lint(message)).toEqual([]);
  });

  it('renders a missing variable empty', () => {
    const message = renderMessage('thank_you', context, { subject: '{{position.title}}{{position.salary}}', body: 'Dear {{recipient.nickname}}{{recipient.name}},' });
    expect(message).toEqual({ subject: 'Senior Data Engineer', body: 'Dear Grace Hopper,' });
  });

  it('leaves a tenant’s own bracketed placeholder for L3 to catch', () => {
    const message = renderMessage('thank_you', context, { body: 'Dear [Name],\n\nThank you for discussing {{topic}}.\n{{candidate.email}}' });
    const l3 = lint(message).filter((finding) => finding.rule === 'L3');
    expect(l3).toEqual([{ rule: 'L3', level: 'error', detail: 'unresolved placeholder: "[Name]" in the body' }]);
  });

  it('keeps a subject on one line', () => {
    expect(renderMessage('thank_you', context, { subject: 'Thank you:\n{{position.title}}' }).subject).toBe('Thank you: Senior Data Engineer');
  });

  it('refuses text that is not valid Mustache', () => {
    expect(() => renderMessage('thank_you', context, { body: 'Dear {{#recipient}}{{name}},' })).toThrow(TemplateRenderError);
    expect(templateSyntaxProblem('Dear {{#recipient}}{{name}},')).toMatch(/Unclosed section/);
    expect(templateSyntaxProblem('Dear {{recipient.name}},')).toBeNull();
  });

  it('maps every step kind to a policy template key', () => {
    expect(Object.keys(TEMPLATE_KEY_BY_KIND).sort()).toEqual([...ALL_KINDS].sort());
    expect(new Set(Object.values(TEMPLATE_KEY_BY_KIND)).size).toBe(ALL_KINDS.length);
  });
});
