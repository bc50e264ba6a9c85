// The built-in English wording of every step kind, and rendering with Mustache. Messages are
// written on behalf of the candidate to an interviewer (the call task alone goes to the
// candidate). Every sentence here is our own; a tenant may replace the subject and/or body of
// a kind with its own Mustache text, rendered against the same context.

import { DateTime } from 'luxon';
import Mustache from 'mustache';
import { cleanTopics, foldText, primaryContactOf, splitPersonName } from './message-text.js';
import { POLICY_SECTION_BY_KIND, type TemplateKey, type TemplateOverride } from './policy-document.js';
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
  recipient: { name: string; firstName: string; lastName: string; title: string };
  /** The primary contact of the interview: whom a call task asks the candidate to call. */
  contact: { name: string; firstName: string; title: string; phone: string };
  company: { name: string };
  position: { title: string };
  interview: { date: string };
  decision: { date: string };
  callBack: { date: string };
  /** The one topic for this recipient's personal line. */
  topic: string;
  /** Every topic of the interview as an English list: "a, b and c". */
  topics: string;
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
  { name: 'contact.name', description: "the interview's primary contact: whom a call task asks the candidate to call" },
  { name: 'contact.firstName', description: "the primary contact's first name" },
  { name: 'contact.title', description: "the primary contact's job title (empty when unknown)" },
  { name: 'contact.phone', description: "the primary contact's phone number (empty when unknown)" },
  { name: 'company.name', description: "the employer's name" },
  { name: 'position.title', description: 'the title of the position interviewed for' },
  { name: 'interview.date', description: 'the interview day in the recipient\'s time zone, e.g. "Tuesday, 3 March"' },
  { name: 'decision.date', description: 'the day a decision was said to be expected, same format (empty when unknown)' },
  { name: 'callBack.date', description: 'the day the interviewer said they would call back, same format (empty when unknown)' },
  {
    name: 'topic',
    description:
      'one topic of the interview for the personal line: spread over the panel when there are several, the same for all with panelConsistency "uniform" (empty when there are none)',
  },
  { name: 'topics', description: 'every topic of the interview as a list, "a, b and c" (empty when there are none)' },
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
}

/** The day an instant falls on in `zone`, as "Tuesday, 3 March"; the interview's zone if `zone` is unknown to the time zone database. */
// A panel's messages all name the same few days: format each (instant, zone) once.
const DATE_MEMO_LIMIT = 1_000;
const dateMemo = new Map<string, string>();

export function formatLongDate(instant: Date, zone: string, fallbackZone: string): string {
  const key = `${instant.getTime()}|${zone}|${fallbackZone}`;
  const remembered = dateMemo.get(key);
  if (remembered !== undefined) return remembered;
  let formatted = '';
  for (const candidateZone of [zone, fallbackZone, 'UTC']) {
    const local = DateTime.fromJSDate(instant, { zone: candidateZone });
    if (local.isValid) {
      formatted = local.setLocale('en-US').toFormat('cccc, d LLLL');
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

/** A stable small number from a string, so a recipient we cannot place on the panel still gets the same topic every time. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const char of text) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
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

function defaultSignature(candidate: InterviewFacts['candidate']): string {
  return [candidate.name, candidate.email, candidate.phone, candidate.linkedinUrl]
    .map((line) => (line ?? '').trim())
    .filter((line) => line.length > 0)
    .join('\n');
}

export function messageContext(input: MessageContextInput): MessageContext {
  const { interview, recipient, kind } = input;
  const candidate = interview.candidate;
  const recipientName = splitPersonName(recipient.name);
  const recipientAsInterviewer = interview.interviewers.find((interviewer) => interviewer.id === recipient.interviewerId);
  const contact = primaryContactOf(interview);
  const contactName = splitPersonName(contact?.name ?? '');
  const topics = cleanTopics(interview.topics);
  // The call task goes to the candidate; its talking point is the one the contact would have got.
  const topicPerson = kind === 'call_task' && recipient.interviewerId === null ? contact : recipientAsInterviewer;
  const dateIn = (instant: Date | null): string =>
    instant === null ? '' : formatLongDate(instant, input.zone, interview.timezone);

  return {
    kind,
    channel: input.channel,
    candidate: {
      name: candidate.name.trim(),
      firstName: splitPersonName(candidate.name).first,
      email: candidate.email.trim(),
      phone: candidate.phone?.trim() ?? '',
      linkedinUrl: candidate.linkedinUrl?.trim() ?? '',
      signature: candidate.signature?.trim() || defaultSignature(candidate),
    },
    recipient: {
      name: recipientName.full,
      firstName: recipientName.first,
      lastName: recipientName.last,
      title: recipientAsInterviewer?.title?.trim() ?? '',
    },
    contact: {
      name: contactName.full,
      firstName: contactName.first,
      title: contact?.title?.trim() ?? '',
      phone: contact?.phone?.trim() ?? '',
    },
    company: { name: interview.company.name.trim() },
    position: { title: interview.positionTitle.trim().replace(/\s+/g, ' ') },
    interview: { date: dateIn(interview.startsAt) },
    decision: { date: dateIn(interview.decisionExpectedBy) },
    callBack: { date: dateIn(interview.callBackExpectedBy) },
    topic: chooseTopic({
      topics,
      interview,
      personId: topicPerson?.id ?? recipient.interviewerId,
      personName: topicPerson?.name ?? recipient.name,
      panelConsistency: input.panelConsistency ?? 'personalized',
    }),
    topics: joinAsEnglishList(topics),
  };
}

interface MessageTemplate {
  subject: string;
  body: string;
}

/** Full wording for email, LinkedIn, phone notes and handwritten cards; a short one for SMS. */
interface KindTemplates {
  full: MessageTemplate;
  sms: MessageTemplate;
}

const CLOSING = `Kind regards,
{{candidate.signature}}`;

const SMS_SIGN_OFF = '{{candidate.name}}, {{candidate.email}}';

// Section tags stand on lines of their own so Mustache drops those lines when rendering.
// The personal sentence is a paragraph of its own: L11 compares panel messages without it.
export const BUILT_IN_TEMPLATES: Readonly<Record<StepKind, KindTemplates>> = {
  thank_you: {
    full: {
      subject: 'Thank you for the interview: {{position.title}}',
      body: `Dear {{recipient.name}},

Thank you for taking the time to speak with me on {{interview.date}}, about the {{position.title}} position at {{company.name}}.

{{#topic}}
I especially enjoyed our conversation about {{topic}}; it gave me a clearer sense of the work ahead.
{{/topic}}
{{^topic}}
Hearing how the team works gave me a clearer sense of the role and of what matters at {{company.name}}.
{{/topic}}

Our discussion strengthened my interest in the role. I am confident my experience would let me contribute early on, and I am happy to provide anything else that would help as you consider your decision.

Thank you again for your time and consideration.

${CLOSING}`,
    },
    sms: {
      subject: 'Thank you for the interview: {{position.title}}',
      body: `Dear {{recipient.name}},
Thank you for the interview for the {{position.title}} position. {{#topic}}I enjoyed our talk about {{topic}} and{{/topic}}{{^topic}}I{{/topic}} remain very interested.
${SMS_SIGN_OFF}`,
    },
  },
  check_in: {
    full: {
      subject: 'Following up on the {{position.title}} interview',
      body: `Dear {{recipient.name}},

I hope you are well. I am following up on our conversation of {{interview.date}} about the {{position.title}} position at {{company.name}}.

{{#topic}}
I have kept thinking about our discussion of {{topic}}, and it has only added to my enthusiasm for the role.
{{/topic}}
{{^topic}}
Since we spoke, my enthusiasm for the role and for the team at {{company.name}} has only grown.
{{/topic}}

{{#decision.date}}
You mentioned that a decision was expected around {{decision.date}}, so I wanted to reaffirm my interest.
{{/decision.date}}
If any further information from me would be helpful, I would be glad to provide it.

Thank you for your time.

${CLOSING}`,
    },
    sms: {
      subject: 'Following up on the {{position.title}} interview',
      body: `Dear {{recipient.name}},
I am following up on my interview for the {{position.title}} position. {{#topic}}I keep thinking about our talk on {{topic}} and{{/topic}}{{^topic}}I{{/topic}} remain very interested.
${SMS_SIGN_OFF}`,
    },
  },
  final_check_in: {
    full: {
      subject: 'Next steps for the {{position.title}} position',
      body: `Dear {{recipient.name}},

I hope all is well. I am writing once more about the {{position.title}} position at {{company.name}}, for which I interviewed on {{interview.date}}. I remain very interested in the role.

{{#topic}}
Our conversation about {{topic}} has stayed with me, and I would be excited to contribute to that work.
{{/topic}}
{{^topic}}
What I learned about the team has stayed with me, and I would be excited to contribute to its work.
{{/topic}}

Could you let me know what the next steps are and the expected timeline for a decision? I understand these processes take time, and I appreciate any update you are able to share.

Thank you for your time and consideration.

${CLOSING}`,
    },
    sms: {
      subject: 'Next steps for the {{position.title}} position',
      body: `Dear {{recipient.name}},
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
    full: {
      subject: 'Staying in touch after the {{position.title}} interview',
      body: `Dear {{recipient.name}},

Thank you for letting me know your decision about the {{position.title}} position. Although I am disappointed, I am grateful for the time you and the team gave me and for everything I learned about {{company.name}}.

{{#topic}}
Our conversation about {{topic}} was a highlight of the process for me.
{{/topic}}
{{^topic}}
Meeting the team was a highlight of the process for me.
{{/topic}}

I would be glad to stay in touch, and I hope our paths cross again if another suitable role opens up in the future.

I wish you and the team every success.

${CLOSING}`,
    },
    sms: {
      subject: 'Staying in touch after the {{position.title}} interview',
      body: `Dear {{recipient.name}},
Thank you for letting me know about the {{position.title}} position. {{#topic}}I valued our talk about {{topic}}, and{{/topic}}{{^topic}}I valued meeting you, and{{/topic}} I would be glad to stay in touch.
${SMS_SIGN_OFF}`,
    },
  },
  respond_to_concerns: {
    full: {
      subject: 'Following up on your questions about the {{position.title}} position',
      body: `Dear {{recipient.name}},

Thank you for your candid feedback on my application for the {{position.title}} position at {{company.name}}. I appreciate you sharing your concerns, and I would welcome the chance to address them.

{{#topic}}
Building on our discussion of {{topic}}, I can share concrete examples from my past work that speak to these points.
{{/topic}}
{{^topic}}
I can share concrete examples from my past work that speak to these points.
{{/topic}}

I would be happy to answer in writing or in a short call at a time that suits you.

Thank you again for your openness.

${CLOSING}`,
    },
    sms: {
      subject: 'Following up on your questions about the {{position.title}} position',
      body: `Dear {{recipient.name}},
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

/** The built-in template a step kind uses on a channel. */
export function builtInTemplate(kind: StepKind, channel: Channel): MessageTemplate {
  const templates = BUILT_IN_TEMPLATES[kind];
  return channel === 'sms' ? templates.sms : templates.full;
}

/**
 * Renders a message. A tenant's override replaces our subject and/or body for this kind;
 * a variable the context lacks renders empty. A subject is a single line: line breaks in it
 * become spaces. Throws `TemplateRenderError` for text that is not valid Mustache.
 */
export function renderMessage(kind: StepKind, context: MessageContext, override?: TemplateOverride): RenderedMessage {
  const ours = builtInTemplate(kind, context.channel);
  const subjectFromTenant = override?.subject !== undefined;
  const bodyFromTenant = override?.body !== undefined;
  const subject = renderPart(kind, 'subject', override?.subject ?? ours.subject, context, subjectFromTenant);
  const body = renderPart(kind, 'body', override?.body ?? ours.body, context, bodyFromTenant);
  return { subject: subject.replace(/\s*\n\s*/g, ' '), body };
}
