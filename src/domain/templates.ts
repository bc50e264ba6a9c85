// The built-in English wording of every step kind, and rendering with Mustache. Messages are
// written on behalf of the candidate to an interviewer (the call task alone goes to the
// candidate). Every sentence here is our own; a tenant may replace the subject and/or body of
// a kind with its own Mustache text, rendered against the same context.

import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { DateTime } from 'luxon';
import Mustache from 'mustache';
import { chooseVariant, LETTER_WORDINGS, type LetterWording, stableHash, type WordingChoice, type WordingFacts } from './letter-wording.js';
import { cleanTopics, foldText, greetingName, honorificInName, primaryContactOf, splitPersonName } from './message-text.js';
import { POLICY_SECTION_BY_KIND, type TemplateKey, type TemplateOverride, type WritingStyle } from './policy-document.js';
import type { Channel, InterviewFacts, Recipient, RenderedMessage, StepKind } from './types.js';

/**
 * What a template can name. Every leaf is a string; an unknown fact is the empty string, so
 * `{{#decision.date}}…{{/decision.date}}` shows its text only when the date is known.
 */
export interface MessageContext {
  kind: StepKind;
  channel: Channel;
  candidate: {
    name: string;
    firstName: string;
    email: string;
    phone: string;
    linkedinUrl: string;
    /** The lines under the closing ("Kind regards,"): the candidate's own, or name and contacts. */
    signature: string;
  };
  recipient: { name: string; firstName: string; lastName: string; title: string; honorific: string };
  /** The salutation line: "Dear Kenji," or, with greeting "formal", "Dear Dr. Watanabe,". */
  greeting: string;
  /** The primary contact of the interview: whom a call task asks the candidate to call. */
  contact: { name: string; firstName: string; title: string; phone: string };
  company: { name: string };
  position: { title: string };
  /**
   * The interview's day in its own zone (one date for the whole panel). `dateInSentence` is the
   * same day followed by the comma American style puts after "Tuesday, December 8" when the
   * sentence goes on; British style needs none.
   */
  interview: { date: string; dateInSentence: string };
  decision: { date: string };
  callBack: { date: string };
  /** The one topic for this recipient's personal line. */
  topic: string;
  /** Every topic of the interview as an English list: "a, b and c". */
  topics: string;
  /** The debrief: what the candidate wants to stress (a noun phrase), what they left out, a link. */
  highlights: string;
  leftOut: string;
  resourceUrl: string;
  /** Which wording our letters take; not for templates. */
  choice: WordingChoice;
}

/** The variable list for README.md and for tenants writing their own templates. */
export const TEMPLATE_VARIABLES: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'candidate.name', description: "the candidate's full name" },
  { name: 'candidate.firstName', description: "the candidate's first name" },
  { name: 'candidate.email', description: "the candidate's email address" },
  { name: 'candidate.phone', description: "the candidate's phone number (empty when unknown)" },
  { name: 'candidate.linkedinUrl', description: "the candidate's LinkedIn profile URL (empty when unknown)" },
  {
    name: 'candidate.signature',
    description:
      "the lines under the closing: the candidate's own signature when given, else their name, email, phone and LinkedIn URL, one per line",
  },
  { name: 'recipient.name', description: 'the full name of the person the message is addressed to' },
  { name: 'recipient.firstName', description: "the recipient's first name (a leading Dr./Ms./Mr. is skipped)" },
  { name: 'recipient.lastName', description: "the recipient's last name (empty for a one-word name)" },
  { name: 'recipient.title', description: "the recipient's job title (empty when unknown)" },
  { name: 'recipient.honorific', description: 'the recipient\'s courtesy title, given or read from the name, e.g. "Dr." (empty when unknown)' },
  { name: 'greeting', description: 'the salutation line per the policy\'s writing.greeting: "Dear Kenji," or "Dear Dr. Watanabe,"' },
  { name: 'contact.name', description: "the interview's primary contact: whom a call task asks the candidate to call" },
  { name: 'contact.firstName', description: "the primary contact's first name" },
  { name: 'contact.title', description: "the primary contact's job title (empty when unknown)" },
  { name: 'contact.phone', description: "the primary contact's phone number (empty when unknown)" },
  { name: 'company.name', description: "the employer's name" },
  { name: 'position.title', description: 'the title of the position interviewed for' },
  { name: 'interview.date', description: 'the interview day in the interview\'s own time zone, per writing.locale: "Tuesday, March 3" (en-US) or "Tuesday 3 March" (en-GB)' },
  { name: 'interview.dateInSentence', description: 'the same, followed by a comma in en-US for a sentence that goes on: "on Tuesday, March 3, about"' },
  { name: 'decision.date', description: 'the day a decision was said to be expected, same format (empty when unknown)' },
  { name: 'callBack.date', description: 'the day the interviewer said they would call back, same format (empty when unknown)' },
  {
    name: 'topic',
    description:
      'one topic of the interview for the personal line: spread over the panel when there are several, the same for all with panelConsistency "uniform" (empty when there are none)',
  },
  { name: 'topics', description: 'every topic of the interview as a list, "a, b and c" (empty when there are none)' },
  { name: 'highlights', description: 'what the candidate wants to reiterate, a noun phrase (empty when not given)' },
  { name: 'leftOut', description: 'something the candidate did not mention in the interview (empty when not given)' },
  { name: 'resourceUrl', description: 'an article or work sample worth sending (empty when not given)' },
  { name: 'kind', description: 'the step kind, e.g. thank_you' },
  { name: 'channel', description: 'the channel, e.g. email or sms' },
];

export interface MessageContextInput {
  kind: StepKind;
  recipient: Recipient;
  interview: InterviewFacts;
  /** The recipient's IANA zone: dates are written as the recipient's calendar shows them. */
  zone: string;
  channel: Channel;
  /** With `uniform`, every panel member's personal line uses the same (first) topic (L11). */
  panelConsistency?: 'personalized' | 'uniform';
  /** Greeting and date style (policy `writing`); American first-name style when absent. */
  writing?: WritingStyle;
  /** Which wording to try: 0 first, then 1, 2 … when a letter is too close to another (L12). */
  attempt?: number;
}

const DEFAULT_WRITING: WritingStyle = { greeting: 'first_name', locale: 'en-US' };

/** The day an instant falls on in `zone`, as "Tuesday, March 3" (en-US) or "Tuesday 3 March" (en-GB); the fallback zone if `zone` is unknown. */
// A panel's messages all name the same few days: format each (instant, zone) once.
const DATE_MEMO_LIMIT = 1_000;
const dateMemo = new Map<string, string>();

const DATE_FORMATS: Readonly<Record<WritingStyle['locale'], string>> = { 'en-US': 'cccc, LLLL d', 'en-GB': 'cccc d LLLL' };

export function formatLongDate(instant: Date, zone: string, fallbackZone: string, locale: WritingStyle['locale'] = 'en-US'): string {
  const key = `${instant.getTime()}|${zone}|${fallbackZone}|${locale}`;
  const remembered = dateMemo.get(key);
  if (remembered !== undefined) return remembered;
  let formatted = '';
  for (const candidateZone of [zone, fallbackZone, 'UTC']) {
    const local = DateTime.fromJSDate(instant, { zone: candidateZone });
    if (local.isValid) {
      formatted = local.setLocale(locale).toFormat(DATE_FORMATS[locale]);
      break;
    }
  }
  if (dateMemo.size >= DATE_MEMO_LIMIT) dateMemo.clear();
  dateMemo.set(key, formatted);
  return formatted;
}

/** "a", "a and b", "a, b and c". */
export function joinAsEnglishList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

/**
 * The topic for one recipient's personal line. Panel members take topics in the order the
 * partner listed them (the n-th interviewer gets the n-th topic, wrapping), so with enough
 * topics no two panel members get the same one; with `uniform` all get the first.
 */
export function chooseTopic(input: {
  topics: readonly string[];
  interview: InterviewFacts;
  personId: string | null;
  personName: string;
  panelConsistency: 'personalized' | 'uniform';
}): string {
  const topics = cleanTopics(input.topics);
  if (topics.length === 0) return '';
  if (input.panelConsistency === 'uniform') return topics[0] ?? '';
  const panelIndex = input.interview.interviewers.findIndex((interviewer) => interviewer.id === input.personId);
  const slot = panelIndex >= 0 ? panelIndex : stableHash(foldText(input.personName).toLowerCase());
  return topics[slot % topics.length] ?? '';
}

/** A phone number as a person writes it: "+1 415-555-0123" rather than +14155550123. */
// Parsing a number with its country's metadata is the dearest step of composing a letter, and a
// worker formats the same candidate's number for every letter of the panel (twice each, with the
// signature): remember the last few (pure, so a cache changes nothing but time).
const PHONE_MEMO_LIMIT = 256;
const phoneMemo = new Map<string, string>();

export function formatPhone(phone: string | null | undefined): string {
  const trimmed = phone?.trim() ?? '';
  if (trimmed.length === 0) return '';
  const remembered = phoneMemo.get(trimmed);
  if (remembered !== undefined) return remembered;
  const formatted = parsePhoneNumberFromString(trimmed)?.formatInternational() ?? trimmed;
  if (phoneMemo.size >= PHONE_MEMO_LIMIT) phoneMemo.clear();
  phoneMemo.set(trimmed, formatted);
  return formatted;
}

function defaultSignature(candidate: InterviewFacts['candidate']): string {
  return [candidate.name, candidate.email, formatPhone(candidate.phone), candidate.linkedinUrl]
    .map((line) => (line ?? '').trim())
    .filter((line) => line.length > 0)
    .join('\n');
}

/**
 * The topics to talk about with one person, in the order their letters use them: what they
 * discussed themselves first, then the interview's (spread over the panel, so the n-th member
 * starts at the n-th topic; everyone from the first with `uniform`).
 */
export function topicsForPerson(interview: InterviewFacts, personId: string | null, personName: string, panelConsistency: 'personalized' | 'uniform'): string[] {
  const person = interview.interviewers.find((interviewer) => interviewer.id === personId);
  const shared = cleanTopics(interview.topics);
  let start = 0;
  if (panelConsistency === 'personalized' && shared.length > 0) {
    const panelIndex = interview.interviewers.findIndex((interviewer) => interviewer.id === personId);
    start = (panelIndex >= 0 ? panelIndex : stableHash(foldText(personName).toLowerCase())) % shared.length;
  }
  return cleanTopics([...(person?.topics ?? []), ...shared.slice(start), ...shared.slice(0, start)]);
}

/**
 * Which topic a kind names, so no topic comes back with the same person: the thank-you takes
 * the first, the check-in the next (unless it opens with the resource), the final check-in the
 * one after that. Empty when none is left.
 */
function topicForKind(kind: StepKind, sequence: readonly string[], hasResource: boolean): string {
  if (kind === 'check_in') return hasResource ? '' : (sequence[1] ?? '');
  if (kind === 'final_check_in') return sequence[hasResource ? 1 : 2] ?? '';
  return sequence[0] ?? '';
}

/** Free text placed inside one of our sentences: one line, without its closing punctuation. */
function inlineText(text: string | null | undefined): string {
  return (text ?? '').trim().replace(/\s+/g, ' ').replace(/[\s.!?;:,]+$/u, '');
}

export function messageContext(input: MessageContextInput): MessageContext {
  const { interview, recipient, kind } = input;
  const writing = input.writing ?? DEFAULT_WRITING;
  const panelConsistency = input.panelConsistency ?? 'personalized';
  const candidate = interview.candidate;
  const recipientName = splitPersonName(recipient.name);
  const recipientAsInterviewer = interview.interviewers.find((interviewer) => interviewer.id === recipient.interviewerId);
  const contact = primaryContactOf(interview);
  const contactName = splitPersonName(contact?.name ?? '');
  const topics = cleanTopics(interview.topics);
  // The call task goes to the candidate; its talking point is the one the contact would have got.
  const topicPerson = kind === 'call_task' && recipient.interviewerId === null ? contact : recipientAsInterviewer;
  // One date for the whole panel: the interview's own day, in the interview's zone.
  const dateOf = (instant: Date | null): string =>
    instant === null ? '' : formatLongDate(instant, interview.timezone, interview.timezone, writing.locale);
  const interviewDate = dateOf(interview.startsAt);
  const resourceUrl = interview.resourceUrl?.trim() ?? '';
  const honorific = recipientAsInterviewer?.honorific?.trim() || honorificInName(recipient.name) || '';
  const sequence = topicsForPerson(interview, topicPerson?.id ?? recipient.interviewerId, topicPerson?.name ?? recipient.name, panelConsistency);

  return {
    kind,
    channel: input.channel,
    candidate: {
      name: candidate.name.trim(),
      firstName: splitPersonName(candidate.name).first,
      email: candidate.email.trim(),
      phone: formatPhone(candidate.phone),
      linkedinUrl: candidate.linkedinUrl?.trim() ?? '',
      signature: candidate.signature?.trim() || defaultSignature(candidate),
    },
    recipient: {
      name: recipientName.full,
      firstName: recipientName.first,
      lastName: recipientName.last,
      title: recipientAsInterviewer?.title?.trim() ?? '',
      honorific,
    },
    greeting: `Dear ${greetingName(recipient.name, honorific, writing.greeting, writing.locale)},`,
    contact: {
      name: contactName.full,
      firstName: contactName.first,
      title: contact?.title?.trim() ?? '',
      phone: formatPhone(contact?.phone),
    },
    company: { name: interview.company.name.trim() },
    position: { title: interview.positionTitle.trim().replace(/\s+/g, ' ') },
    interview: { date: interviewDate, dateInSentence: writing.locale === 'en-US' && interviewDate.length > 0 ? `${interviewDate},` : interviewDate },
    decision: { date: dateOf(interview.decisionExpectedBy) },
    callBack: { date: dateOf(interview.callBackExpectedBy) },
    topic: topicForKind(kind, sequence, resourceUrl.length > 0),
    topics: joinAsEnglishList(topics),
    highlights: inlineText(interview.highlights),
    leftOut: inlineText(interview.leftOut),
    resourceUrl,
    choice: {
      candidateId: candidate.id,
      panelIndex: interview.interviewers.findIndex((interviewer) => interviewer.id === recipient.interviewerId),
      recipientKey: recipient.interviewerId ?? recipient.email ?? recipient.name,
      kind,
      uniform: panelConsistency === 'uniform',
      attempt: input.attempt ?? 0,
    },
  };
}

interface MessageTemplate {
  subject: string;
  body: string;
}

/**
 * A short wording for SMS; the call task (a note to the candidate) has a full one too. Letters
 * to interviewers on the other channels are composed from the wordings in letter-wording.ts.
 */
interface KindTemplates {
  full?: MessageTemplate;
  sms: MessageTemplate;
}

const SMS_SIGN_OFF = '{{candidate.name}}, {{candidate.email}}';

// Section tags stand on lines of their own so Mustache drops those lines when rendering.
export const BUILT_IN_TEMPLATES: Readonly<Record<StepKind, KindTemplates>> = {
  thank_you: {
    sms: {
      subject: 'Thank you for the interview: {{position.title}}',
      body: `{{greeting}}
Thank you for the interview for the {{position.title}} position. {{#topic}}I enjoyed our talk about {{topic}} and{{/topic}}{{^topic}}I{{/topic}} remain very interested.
${SMS_SIGN_OFF}`,
    },
  },
  check_in: {
    sms: {
      subject: 'Following up on the {{position.title}} interview',
      body: `{{greeting}}
I am following up on my interview for the {{position.title}} position. {{#topic}}I keep thinking about our talk on {{topic}} and{{/topic}}{{^topic}}I{{/topic}} remain very interested.
${SMS_SIGN_OFF}`,
    },
  },
  final_check_in: {
    sms: {
      subject: 'Next steps for the {{position.title}} position',
      body: `{{greeting}}
I remain very interested in the {{position.title}} position{{#topic}} and in our talk about {{topic}}{{/topic}}. Could you let me know the next steps and timeline?
${SMS_SIGN_OFF}`,
    },
  },
  call_task: {
    full: {
      subject: 'Reminder: call {{contact.name}} about the {{position.title}} position',
      body: `Hello {{recipient.firstName}},

{{contact.name}} said they would be in touch about the {{position.title}} position at {{company.name}}{{#callBack.date}} by {{callBack.date}}{{/callBack.date}}, and the time they gave has now passed. A brief, friendly call to ask about the status of your application is a sensible next step.

{{#contact.phone}}
Phone: {{contact.phone}}
{{/contact.phone}}
{{^contact.phone}}
We do not have a phone number for {{contact.name}}, so you may need to look it up first.
{{/contact.phone}}

{{#topic}}
If it helps, you could mention your conversation about {{topic}}.
{{/topic}}

Before you call, note the questions you want to ask and find a quiet place to talk.`,
    },
    sms: {
      subject: 'Reminder: call {{contact.name}} about the {{position.title}} position',
      body: `Hello {{recipient.firstName}},
The time {{contact.name}} gave for getting back to you about the {{position.title}} position has passed. A short call{{#contact.phone}} to {{contact.phone}}{{/contact.phone}} to ask about the status is a sensible next step.`,
    },
  },
  keep_in_touch: {
    sms: {
      subject: 'Staying in touch after the {{position.title}} interview',
      body: `{{greeting}}
Thank you for letting me know about the {{position.title}} position. {{#topic}}I valued our talk about {{topic}}, and{{/topic}}{{^topic}}I valued meeting you, and{{/topic}} I would be glad to stay in touch.
${SMS_SIGN_OFF}`,
    },
  },
  respond_to_concerns: {
    sms: {
      subject: 'Following up on your questions about the {{position.title}} position',
      body: `{{greeting}}
Thank you for your feedback on my {{position.title}} application. {{#topic}}Recalling our talk on {{topic}}, I{{/topic}}{{^topic}}I{{/topic}} would welcome a chance to address your concerns.
${SMS_SIGN_OFF}`,
    },
  },
};

/** The policy document's key for a step kind's tenant template. */
export const TEMPLATE_KEY_BY_KIND: Readonly<Record<StepKind, TemplateKey>> = POLICY_SECTION_BY_KIND;

export class TemplateRenderError extends Error {
  constructor(
    readonly kind: StepKind,
    readonly part: 'subject' | 'body',
    cause: unknown,
  ) {
    super(`the ${part} template of ${kind} cannot be rendered: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'TemplateRenderError';
  }
}

/**
 * Why a tenant's template text is not valid Mustache (an unclosed section, say), or null when it
 * is. Policy validation calls this so a broken override is refused before any step uses it.
 */
export function templateSyntaxProblem(source: string): string | null {
  try {
    new Mustache.Writer().parse(source);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

// Our templates are few and fixed, so their parse is cached for good. Tenant text is parsed
// by a second writer whose cache is cleared after each use: a cache keyed by arbitrary tenant
// text would only grow.
const builtInWriter = new Mustache.Writer();
const tenantWriter = new Mustache.Writer();

// Plain-text messages: a value such as "O'Brien & Sons" must come out as written, not as HTML.
const PLAIN_TEXT = { escape: (value: unknown): string => String(value) };

/** Tidies what a template leaves behind: trailing spaces, runs of blank lines from empty values. */
function tidyRenderedText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function renderPart(kind: StepKind, part: 'subject' | 'body', source: string, context: MessageContext, fromTenant: boolean): string {
  const writer = fromTenant ? tenantWriter : builtInWriter;
  try {
    return tidyRenderedText(writer.render(source, context, undefined, PLAIN_TEXT));
  } catch (error) {
    throw new TemplateRenderError(kind, part, error);
  } finally {
    if (fromTenant) tenantWriter.clearCache();
  }
}

/** What a letter's slots may depend on, read from its context. */
function wordingFactsOf(context: MessageContext): WordingFacts {
  return {
    topic: context.topic.length > 0,
    role: context.recipient.title.length > 0,
    highlights: context.highlights.length > 0,
    leftOut: context.leftOut.length > 0,
    resource: context.kind === 'check_in' && context.resourceUrl.length > 0,
    decision: context.decision.date.length > 0,
  };
}

function pick(choice: WordingChoice, slotId: string, variants: readonly string[]): string {
  return variants[chooseVariant(choice, slotId, variants.length)] ?? variants[0] ?? '';
}

function renderOurs(text: string, context: MessageContext): string {
  return builtInWriter.render(text, context, undefined, PLAIN_TEXT);
}

/**
 * One of our letters: the greeting, paragraphs of the chosen wordings (a sentence per slot
 * whose condition holds), the closing and the signature. Each wording is rendered on its own,
 * so the parse cache holds the finite set of wordings, not every combination.
 */
function composeLetter(wording: LetterWording, context: MessageContext): string {
  const facts = wordingFactsOf(context);
  const paragraphs = wording.paragraphs
    .map((slots) =>
      slots
        .filter((slot) => slot.when === undefined || slot.when(facts))
        .map((slot) => renderOurs(pick(context.choice, slot.id, slot.variants), context).trim())
        .filter((sentence) => sentence.length > 0)
        .join(' '),
    )
    .filter((paragraph) => paragraph.length > 0);
  const closing = pick(context.choice, 'closing', wording.closings);
  return [context.greeting, ...paragraphs, `${closing}\n${context.candidate.signature}`].join('\n\n');
}

/** The wording a kind takes on a channel: composed letters, or a fixed template (SMS, the call task). */
function letterWordingFor(kind: StepKind, channel: Channel): LetterWording | undefined {
  return channel === 'sms' ? undefined : LETTER_WORDINGS[kind];
}

/** The built-in fixed template of a kind on a channel: SMS, and the call task's note. */
export function builtInTemplate(kind: StepKind, channel: Channel): MessageTemplate {
  const templates = BUILT_IN_TEMPLATES[kind];
  return channel === 'sms' || !templates.full ? templates.sms : templates.full;
}

/**
 * Renders a message. A tenant's override replaces our subject and/or body for this kind;
 * a variable the context lacks renders empty. A subject is a single line: line breaks in it
 * become spaces. Throws `TemplateRenderError` for text that is not valid Mustache.
 */
export function renderMessage(kind: StepKind, context: MessageContext, override?: TemplateOverride): RenderedMessage {
  const wording = letterWordingFor(kind, context.channel);
  const ours = wording ? undefined : builtInTemplate(kind, context.channel);
  const subjectFromTenant = override?.subject !== undefined;
  const bodyFromTenant = override?.body !== undefined;
  const ourSubject = wording ? pick(context.choice, 'subject', wording.subjects) : ours!.subject;
  const subject = renderPart(kind, 'subject', override?.subject ?? ourSubject, context, subjectFromTenant);
  const body = bodyFromTenant || !wording ? renderPart(kind, 'body', override?.body ?? ours!.body, context, bodyFromTenant) : tidyRenderedText(composeLetter(wording, context));
  return { subject: subject.replace(/\s*\n\s*/g, ' '), body };
}
