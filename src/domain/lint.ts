// The content rules L1–L12 of POLICY.md, run on every rendered message before it may go.
// An `error` holds the message in `needs_review`; a `warning` is recorded and the message goes.
// Pure: the dictionary arrives as an injected `SpellChecker`.

import {
  cleanTopics,
  foldText,
  mentionsPhrase,
  mentionsTitledFamilyName,
  phoneDigits,
  phrasePattern,
  primaryContactOf,
  splitPersonName,
} from './message-text.js';
import type { PersonName } from './message-text.js';
import type { PolicyDocument } from './policy-document.js';
import { findCannedMatch, letterHashes, type LetterIdentity, type SentLetterIndex } from './sentence-overlap.js';
import type { Channel, InterviewFacts, InterviewerFacts, LintFinding, Recipient, RenderedMessage, StepKind } from './types.js';

/** Whatever knows English words; the service builds one from a Hunspell dictionary. */
export interface SpellChecker {
  correct(word: string): boolean;
}

export interface LintInput {
  kind: StepKind;
  channel: Channel;
  message: RenderedMessage;
  recipient: Recipient;
  interview: InterviewFacts;
  /** The other thank-yous of the same panel, for L11. */
  panelSiblings?: RenderedMessage[];
  policy: PolicyDocument;
  spell: SpellChecker;
  /** L12: letters other candidates sent lately, and who this one is from and to. */
  canned?: { index: SentLetterIndex; self: LetterIdentity; messageId?: string };
}

/** L1: most words a body may have. A call task is held to the check-in limit. */
export const WORD_LIMITS: Readonly<Record<StepKind, number>> = {
  thank_you: 200,
  check_in: 150,
  final_check_in: 150,
  call_task: 150,
  keep_in_touch: 150,
  respond_to_concerns: 150,
};

const KIND_LABELS: Readonly<Record<StepKind, string>> = {
  thank_you: 'a thank-you',
  check_in: 'a check-in',
  final_check_in: 'a final check-in',
  call_task: 'a call task',
  keep_in_touch: 'a keep-in-touch message',
  respond_to_concerns: 'a reply to concerns',
};

/** Most items a detail lists before summarising the rest. */
const MAX_LISTED = 10;

export function hasLintErrors(findings: readonly LintFinding[]): boolean {
  return findings.some((finding) => finding.level === 'error');
}

export function lintMessage(input: LintInput): LintFinding[] {
  const checks: Array<(input: LintInput) => LintFinding[]> = [
    checkLength,
    checkSubject,
    checkPlaceholders,
    checkNames,
    checkPersonalTopic,
    checkPushiness,
    checkSpelling,
    checkTone,
    checkContactDetails,
    checkAsksNextSteps,
    checkPanelConsistency,
    checkCanned,
  ];
  return checks.flatMap((check) => check(input));
}

// ---------------------------------------------------------------------------------------------
// Shared text handling

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `${shown} (+${items.length - MAX_LISTED} more)` : shown;
}

function quoted(items: readonly string[]): string {
  return listed(items.map((item) => `"${item}"`));
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** A word is any whitespace-separated run that holds a letter or a digit (so "–" is not one). */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;
}

const EMAIL_PATTERN = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
const URL_PATTERN = /(?:https?:\/\/|www\.)[^\s<>"]+|(?<![@\p{L}\p{N}.])(?:[a-z0-9-]+\.)+[a-z]{2,}\/[^\s<>"]*/giu;
const PHONE_PATTERN = /\+?\d[\d\s().-]{5,}\d/g;

/** The text with addresses, links and phone numbers blanked out: they are not prose. */
// Spelling and tone both strip the same message; remember the last one.
let lastStripped: { text: string; prose: string } | undefined;

function withoutAddresses(text: string): string {
  if (lastStripped?.text === text) return lastStripped.prose;
  const prose = text.replace(EMAIL_PATTERN, ' ').replace(URL_PATTERN, ' ').replace(PHONE_PATTERN, ' ');
  lastStripped = { text, prose };
  return prose;
}

function nonEmptyLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * The greeting: the first non-empty line, cut after its first comma when more text follows on
 * the same line ("Dear Grace Hopper, thank you…" in a one-line message).
 */
export function greetingOf(body: string): string {
  const firstLine = nonEmptyLines(body)[0] ?? '';
  const comma = firstLine.indexOf(',');
  return comma >= 0 && comma < firstLine.length - 1 ? firstLine.slice(0, comma + 1) : firstLine;
}

/** The body after its greeting. */
function bodyAfterGreeting(body: string): string {
  const lines = nonEmptyLines(body);
  const greeting = greetingOf(body);
  const restOfFirstLine = (lines[0] ?? '').slice(greeting.length).trim();
  return [restOfFirstLine, ...lines.slice(1)].filter((line) => line.length > 0).join('\n');
}

/** Sentences, line by line: a sentence never spans a line break in a plain-text message. */
export function splitSentences(text: string): string[] {
  return nonEmptyLines(text).flatMap((line) =>
    line
      .split(/(?<=[.!?…])\s+(?=\S)/u)
      .map((sentence) => sentence.trim())
      .filter((sentence) => sentence.length > 0),
  );
}

// ---------------------------------------------------------------------------------------------
// L1 length

function checkLength({ kind, message }: LintInput): LintFinding[] {
  const words = countWords(message.body);
  const limit = WORD_LIMITS[kind];
  if (words <= limit) return [];
  return [{ rule: 'L1', level: 'error', detail: `${words} words; ${KIND_LABELS[kind]} may have at most ${limit}` }];
}

// ---------------------------------------------------------------------------------------------
// L2 descriptive subject

/** Channels whose reader sees a subject line; elsewhere the subject is only kept for the record. */
const CHANNELS_WITH_SUBJECT: ReadonlySet<Channel> = new Set<Channel>(['email', 'linkedin']);

/** Subjects that say nothing about which application this is (003: stand out from "thank you"). */
const BARE_SUBJECTS: ReadonlySet<string> = new Set([
  'thank you',
  'thanks',
  'thank you so much',
  'thank you for the interview',
  'thank you for your time',
  'thanks for the interview',
  'thanks for your time',
  'job interview',
  'interview',
  'our interview',
  'my interview',
  'interview follow up',
  'follow up',
  'following up',
  'checking in',
  'check in',
  'hello',
  'hi',
]);

/** Lowercase words separated by single spaces: punctuation and accents do not matter. */
function wordsOnly(text: string): string {
  return foldText(text)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function containsWords(haystack: string, needle: string): boolean {
  return needle.length > 0 && ` ${haystack} `.includes(` ${needle} `);
}

/** The title as written, and without bracketed qualifiers such as "(Remote)" or "(m/f/d)". */
function positionTitleForms(positionTitle: string): string[] {
  const withoutQualifiers = positionTitle.replace(/\([^)]*\)|\[[^\]]*\]/g, ' ');
  return unique([wordsOnly(positionTitle), wordsOnly(withoutQualifiers)]).filter((form) => form.length > 0);
}

function checkSubject({ channel, message, interview }: LintInput): LintFinding[] {
  if (!CHANNELS_WITH_SUBJECT.has(channel)) return [];
  const subject = wordsOnly(message.subject).replace(/^(?:(?:re|fw|fwd|aw)\s+)+/, '');
  const position = interview.positionTitle.trim();
  const fail = (detail: string): LintFinding[] => [{ rule: 'L2', level: 'error', detail }];
  if (subject.length === 0) return fail(`the subject is empty; it should name the position "${position}"`);
  if (BARE_SUBJECTS.has(subject)) {
    return fail(`the subject "${message.subject.trim()}" is bare; it should name the position "${position}"`);
  }
  const forms = positionTitleForms(position);
  if (forms.length > 0 && !forms.some((form) => containsWords(subject, form))) {
    return fail(`the subject "${message.subject.trim()}" does not name the position "${position}"`);
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// L3 unresolved placeholders

const MUSTACHE_PLACEHOLDER = /\{\{[^{}\n]*\}\}|\{\{|\}\}/g;
const SINGLE_BRACE_PLACEHOLDER = /\{[\p{L}_][\p{L}\p{N}_ .-]{0,40}\}/gu;
const BRACKET_TOKEN = /\[([^[\]\n]{1,40})\]/gu;
const ANGLE_TOKEN = /<([^<>\n]{1,40})>/gu;
/** Words that give away a bracketed placeholder even in lowercase: "[your name]". */
const PLACEHOLDER_WORDS = /\b(?:name|company|position|role|title|date|interviewer|recipient|topic|insert|your|first|last)\b/i;

function isBracketPlaceholder(inner: string): boolean {
  return /^\s*\p{Lu}/u.test(inner) || PLACEHOLDER_WORDS.test(inner);
}

/** "<company>" or "<Interviewer Name>", but not "<ana@example.com>" or "<https://…>". */
function isAnglePlaceholder(inner: string): boolean {
  return /^\s*[\p{L}_][\p{L}\p{N}_ .-]*\s*$/u.test(inner) && !/^\s*www\./i.test(inner);
}

export function findPlaceholders(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(MUSTACHE_PLACEHOLDER)) found.push(match[0]);
  // "{{name}}" is reported once, not again as a single-brace "{name}".
  const withoutMustache = text.replace(MUSTACHE_PLACEHOLDER, ' ');
  for (const match of withoutMustache.matchAll(SINGLE_BRACE_PLACEHOLDER)) found.push(match[0]);
  for (const match of text.matchAll(BRACKET_TOKEN)) if (isBracketPlaceholder(match[1] ?? '')) found.push(match[0]);
  for (const match of text.matchAll(ANGLE_TOKEN)) if (isAnglePlaceholder(match[1] ?? '')) found.push(match[0]);
  return unique(found);
}

function checkPlaceholders({ message }: LintInput): LintFinding[] {
  const parts = [
    { where: 'subject', found: findPlaceholders(message.subject) },
    { where: 'body', found: findPlaceholders(message.body) },
  ].filter((part) => part.found.length > 0);
  if (parts.length === 0) return [];
  const detail = parts.map((part) => `${quoted(part.found)} in the ${part.where}`).join('; ');
  return [{ rule: 'L3', level: 'error', detail: `unresolved placeholder: ${detail}` }];
}

// ---------------------------------------------------------------------------------------------
// L4 greeting names this recipient, and no other interviewer is named

function namesPerson(text: string, person: PersonName): boolean {
  const forms = unique([person.full, person.core, person.first]).filter((form) => form.length > 0);
  return forms.some((form) => mentionsPhrase(text, form, { ignoreCase: true })) || mentionsTitledFamilyName(text, person);
}

function sameWord(a: string, b: string): boolean {
  return a.length > 0 && foldText(a).toLowerCase() === foldText(b).toLowerCase();
}

/** The interviewers this message must not name: everyone but its recipient (and, for a call task, the person to call). */
function otherInterviewers({ kind, recipient, interview }: LintInput): InterviewerFacts[] {
  const recipientName = splitPersonName(recipient.name);
  const contact = kind === 'call_task' ? primaryContactOf(interview) : undefined;
  return interview.interviewers.filter((interviewer) => {
    if (recipient.interviewerId !== null) return interviewer.id !== recipient.interviewerId && interviewer.id !== contact?.id;
    return interviewer.id !== contact?.id && !sameWord(splitPersonName(interviewer.name).core, recipientName.core);
  });
}

/** Blanks out names the message may use, so a word inside them ("Lee" in "Grace Lee") is not read as someone else's name. */
function maskAllowedNames(text: string, allowed: readonly string[]): string {
  let masked = foldText(text);
  const longestFirst = unique(allowed.map((name) => foldText(name).trim()).filter((name) => name.length > 0)).sort(
    (a, b) => b.length - a.length,
  );
  for (const name of longestFirst) masked = masked.replace(phrasePattern(name, { ignoreCase: true, global: true }), ' ');
  return masked;
}

function checkNames(input: LintInput): LintFinding[] {
  const { kind, message, recipient, interview } = input;
  const findings: LintFinding[] = [];
  const recipientName = splitPersonName(recipient.name);
  const greeting = greetingOf(message.body);
  if (recipientName.core.length === 0) {
    findings.push({ rule: 'L4', level: 'error', detail: 'the recipient has no name to greet' });
  } else if (!namesPerson(greeting, recipientName)) {
    findings.push({
      rule: 'L4',
      level: 'error',
      detail: `the greeting "${greeting}" does not name the recipient ${recipientName.full}`,
    });
  }

  const candidateName = splitPersonName(interview.candidate.name);
  const contact = kind === 'call_task' ? primaryContactOf(interview) : undefined;
  const allowedNames = [
    recipientName.full,
    recipientName.core,
    candidateName.full,
    candidateName.core,
    contact?.name ?? '',
    interview.company.name,
    interview.positionTitle,
    ...interview.topics,
  ];
  const masked = maskAllowedNames(`${message.subject}\n${message.body}`, allowedNames);
  // A first name shared with someone the message may name proves nothing: only the full name counts then.
  const sharedFirstNames = [recipientName.first, candidateName.first, contact ? splitPersonName(contact.name).first : ''];
  const mixedUp = otherInterviewers(input).filter((other) => {
    const otherName = splitPersonName(other.name);
    if (otherName.core.length === 0) return false;
    if (mentionsPhrase(masked, otherName.core, { ignoreCase: true })) return true;
    if (mentionsTitledFamilyName(masked, otherName)) return true;
    const firstNameIsTelling = otherName.first.length > 1 && !sharedFirstNames.some((shared) => sameWord(shared, otherName.first));
    // Case-sensitive: an interviewer called Will or Hope is not named by "I will" or "I hope".
    return firstNameIsTelling && mentionsPhrase(masked, otherName.first, { ignoreCase: false });
  });
  if (mixedUp.length > 0) {
    findings.push({
      rule: 'L4',
      level: 'error',
      detail: `names another interviewer of this interview: ${listed(mixedUp.map((other) => other.name.trim()))}`,
    });
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// L5 personal: mentions a topic of this interview

const TOPIC_STOPWORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'the', 'of', 'and', 'or', 'for', 'to', 'in', 'on', 'with', 'at', 'by', 'our', 'your', 'my', 'their', 'its',
  'about', 'from', 'into', 'vs', 'via', 'how', 'we', 'you', 'team', 's',
]);

function topicWords(text: string): string[] {
  return wordsOnly(text.replace(/['’]s\b/g, ''))
    .split(' ')
    .filter((word) => word.length > 0);
}

/** Words that differ only by an inflection: "pipeline"/"pipelines", "migrate"/"migration", "test"/"testing". */
function sameWordFamily(a: string, b: string): boolean {
  if (a === b) return true;
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  if (shorter.length >= 3 && longer === `${shorter}s`) return true;
  let common = 0;
  while (common < shorter.length && shorter[common] === longer[common]) common += 1;
  return common >= Math.max(4, longer.length - 3);
}

/**
 * Whether the text mentions a topic: the topic as a phrase, or every significant word of it
 * in some inflection ("our Kubernetes migrations" mentions "migration to Kubernetes").
 */
export function mentionsTopic(text: string, topic: string): boolean {
  if (mentionsPhrase(text, topic, { ignoreCase: true })) return true;
  const significant = topicWords(topic).filter((word) => !TOPIC_STOPWORDS.has(word));
  if (significant.length === 0) return false;
  const textWords = topicWords(text);
  return significant.every((word) => textWords.some((candidate) => sameWordFamily(word, candidate)));
}

function checkPersonalTopic({ kind, message, interview, recipient }: LintInput): LintFinding[] {
  // The call task is a note to the candidate; a personal line is for interviewers.
  if (kind === 'call_task') return [];
  // What this person discussed counts as much as the interview's own notes.
  const ownTopics = interview.interviewers.find((interviewer) => interviewer.id === recipient.interviewerId)?.topics ?? [];
  const topics = cleanTopics([...ownTopics, ...interview.topics]);
  if (topics.length === 0) {
    return [{ rule: 'L5', level: 'warning', detail: 'no topics are recorded for this interview, so the message has no personal line' }];
  }
  const text = `${message.subject}\n${message.body}`;
  if (topics.some((topic) => mentionsTopic(text, topic))) return [];
  return [{ rule: 'L5', level: 'warning', detail: `mentions none of this interview's topics: ${quoted(topics)}` }];
}

// ---------------------------------------------------------------------------------------------
// L6 not pushy

/** Wording that presses the reader (001, 003): complaints of silence, urgency, demands for a reply. */
export const PUSHY_PATTERNS: ReadonlyArray<{ label: string; pattern: string }> = [
  { label: 'complains of not hearing back', pattern: "(?:have not|haven't|has not|hasn't|did not|didn't|still not|not yet) (?:yet )?heard" },
  { label: 'complains of no reply', pattern: '(?:no|not (?:yet )?(?:received|gotten|had) (?:a|any)) (?:reply|response|answer|word) (?:back )?from you' },
  {
    label: 'reproaches the reader for not replying',
    pattern: "you (?:have not|haven't|never|did not|didn't|still have not|still haven't) (?:yet )?(?:replied|responded|answered|gotten back|got back|reply|respond|answer|get back)",
  },
  { label: 'asks why there is no reply', pattern: "why (?:have you not|haven't you|didn't you|did you not|no)" },
  { label: 'ASAP', pattern: 'a\\.?s\\.?a\\.?p\\.?' },
  { label: 'urgency', pattern: 'urgent(?:ly)?|urgency|time[- ]sensitive' },
  { label: 'as soon as possible', pattern: 'as soon as (?:possible|you can)' },
  { label: 'demands a reply', pattern: 'please (?:reply|respond|answer)' },
  { label: 'sets a reply deadline', pattern: '(?:respond|reply|answer|get back to me|write back|call me back) (?:by|before|within|no later than)' },
  {
    label: 'demands an immediate reply',
    pattern: '(?:reply|respond|answer|get back to me|write back|call me back|hear from you|hear back) (?:immediately|right away|at once|without delay|today|now)',
  },
  { label: 'demands immediacy', pattern: 'immediate (?:response|reply|answer|attention|decision|feedback)' },
  {
    label: 'expects a reply',
    pattern: '(?:i|we) (?:expect|demand|require|insist on|need) (?:a|an|your|some) (?:\\S+ )?(?:response|reply|answer|decision|update)',
  },
  { label: 'insists', pattern: 'i must (?:insist|hear|know|have)' },
  { label: 'counts reminders', pattern: '(?:final|last|second|third|another) (?:reminder|notice|warning)' },
  { label: 'pesters', pattern: "(?:i am|i'm) still waiting|(?:i have|i've) been waiting" },
];

// Every pushy pattern in one alternation: a single pass over the text finds them all.
const PUSHY_PATTERN = new RegExp(
  `(?<![\\p{L}\\p{N}])(?:${PUSHY_PATTERNS.map(({ pattern }) => `(?:${pattern.replace(/ /g, '\\s+')})`).join('|')})(?![\\p{L}\\p{N}])`,
  'giu',
);

// Case-insensitive Unicode matching is slow in V8; the patterns are lower-case, so they run
// case-sensitively over a lower-cased copy, and the matches are read back from the original.
const PUSHY_PATTERN_LOWER = new RegExp(PUSHY_PATTERN.source, 'gu');

export function findPushyPhrases(text: string): string[] {
  const folded = foldText(text);
  const lower = folded.toLowerCase();
  const matches =
    lower.length === folded.length
      ? [...lower.matchAll(PUSHY_PATTERN_LOWER)].map((match) => folded.slice(match.index, match.index + match[0].length))
      : [...folded.matchAll(PUSHY_PATTERN)].map((match) => match[0]);
  return unique(matches.map((match) => match.replace(/\s+/g, ' ')));
}

function checkPushiness({ message }: LintInput): LintFinding[] {
  const found = findPushyPhrases(`${message.subject}\n${message.body}`);
  if (found.length === 0) return [];
  return [{ rule: 'L6', level: 'error', detail: `pushy wording: ${quoted(found)}` }];
}

// ---------------------------------------------------------------------------------------------
// L7 spelling

const WORD_TOKEN = /[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*['’]?/gu;

function normalizedWordKey(word: string): string {
  return foldText(word).toLowerCase();
}

// Spelling and tone both need the allowed words of the same input.
// The allowed words depend on the interview and the recipient's name only, and a worker lints
// every message of a panel against the same interview facts: remember them per interview.
const allowedWordsMemo = new WeakMap<InterviewFacts, Map<string, Set<string>>>();

/** Words we may not know but must accept: the people, the company, the position, the topics. */
function allowedWordsOf(input: LintInput): Set<string> {
  let perRecipient = allowedWordsMemo.get(input.interview);
  if (!perRecipient) allowedWordsMemo.set(input.interview, (perRecipient = new Map()));
  let allowed = perRecipient.get(input.recipient.name);
  if (!allowed) {
    allowed = collectAllowedWords(input);
    perRecipient.set(input.recipient.name, allowed);
  }
  return new Set(allowed);
}

function collectAllowedWords({ interview, recipient }: LintInput): Set<string> {
  const sources = [
    interview.candidate.name,
    recipient.name,
    interview.company.name,
    interview.positionTitle,
    ...interview.topics,
    // The debrief is the candidate's own words: names and terms in it are theirs to use.
    interview.highlights ?? '',
    interview.leftOut ?? '',
    ...interview.interviewers.flatMap((interviewer) => [interviewer.name, interviewer.title ?? '', ...(interviewer.topics ?? [])]),
  ];
  const allowed = new Set<string>();
  for (const source of sources) {
    for (const token of source.match(WORD_TOKEN) ?? []) {
      const key = normalizedWordKey(token.replace(/['’]$/, ''));
      allowed.add(key);
      for (const part of key.split('-')) allowed.add(part);
    }
  }
  return allowed;
}

function withoutPossessive(word: string): string {
  return word.replace(/['’]s$/i, '').replace(/s['’]$/i, 's');
}

// Whether a token is an English word does not depend on the message: remember it per dictionary.
const DICTIONARY_MEMO_LIMIT = 50_000;
const dictionaryMemos = new WeakMap<SpellChecker, Map<string, boolean>>();

function isDictionaryWord(candidates: readonly string[], token: string, spell: SpellChecker): boolean {
  let memo = dictionaryMemos.get(spell);
  if (!memo) dictionaryMemos.set(spell, (memo = new Map()));
  let known = memo.get(token);
  if (known === undefined) {
    if (memo.size >= DICTIONARY_MEMO_LIMIT) memo.clear();
    known = candidates.some((candidate) => spell.correct(candidate));
    memo.set(token, known);
  }
  return known;
}

function isKnownWord(word: string, allowed: ReadonlySet<string>, spell: SpellChecker): boolean {
  // Most words are ordinary English ones seen before: one lookup settles them.
  if (dictionaryMemos.get(spell)?.get(word) === true) return true;
  if (/\p{N}/u.test(word)) return true; // numbers, ordinals ("3rd"), times: not for the dictionary
  const bare = word.replace(/['’]$/, '');
  const plain = bare.replace(/’/g, "'");
  const candidates = unique([plain, withoutPossessive(plain)]);
  return candidates.some((candidate) => allowed.has(normalizedWordKey(candidate))) || isDictionaryWord(candidates, word, spell);
}

export function findUnknownWords(text: string, allowed: ReadonlySet<string>, spell: SpellChecker): string[] {
  const unknown: string[] = [];
  for (const token of withoutAddresses(text).match(WORD_TOKEN) ?? []) {
    if (isKnownWord(token, allowed, spell)) continue;
    // A hyphenated word is fine when each part is ("follow-up", "well-known").
    const parts = token.replace(/['’]$/, '').split('-');
    if (parts.length > 1 && parts.every((part) => isKnownWord(part, allowed, spell))) continue;
    unknown.push(token.replace(/['’]$/, ''));
  }
  return unique(unknown);
}

function checkSpelling(input: LintInput): LintFinding[] {
  const { message, spell } = input;
  const unknown = findUnknownWords(`${message.subject}\n${message.body}`, allowedWordsOf(input), spell);
  if (unknown.length === 0) return [];
  return [{ rule: 'L7', level: 'warning', detail: `words not in the English dictionary: ${listed(unknown)}` }];
}

// ---------------------------------------------------------------------------------------------
// L8 professional tone

/** Slang and text-speak a professional note should not use (001, 004). */
export const SLANG_TERMS: readonly string[] = [
  'gonna', 'wanna', 'gotta', 'kinda', 'sorta', 'lol', 'lmao', 'rofl', 'omg', 'thx', 'thnx', 'tnx', 'pls', 'plz', 'btw',
  'tbh', 'imo', 'imho', 'idk', 'u', 'ur', 'ya', 'yeah', 'yep', 'nope', 'cuz', 'coz', 'dude', 'bro', 'stoked', 'xoxo',
  'brb', 'ttyl', 'cya', 'awesome sauce', 'no worries', 'cheers mate',
];

// Letters stuck to "u" by dots or hyphens ("U.S.", "u-turn") are not the text-speak "you".
// One alternation finds every slang term in a single pass over the text.
const SLANG_PATTERN = new RegExp(
  `(?<![\\p{L}\\p{N}'.\\-])(?:${SLANG_TERMS.map((term) => term.replace(/ /g, '\\s+')).join('|')})(?![\\p{L}\\p{N}'\\-]|\\.\\p{L})`,
  'giu',
);

/** Symbols that count as pictographic but are ordinary in business text. */
const BUSINESS_SYMBOLS = new Set(['©', '®', '™']);
/** An all-capital word of five letters or more reads as shouting, unless it is a name or known term of the interview. */
const SHOUTING_WORD = /(?<![\p{L}\p{N}])\p{Lu}{5,}(?![\p{L}\p{N}])/gu;

export function findToneProblems(text: string, allowedCaps: ReadonlySet<string>): string[] {
  const prose = withoutAddresses(text);
  const problems: string[] = [];
  const emoji = unique([...prose.matchAll(/\p{Extended_Pictographic}/gu)].map((match) => match[0])).filter(
    (symbol) => !BUSINESS_SYMBOLS.has(symbol),
  );
  if (emoji.length > 0) problems.push(`emoji ${emoji.join(' ')}`);
  const exclamations = unique([...prose.matchAll(/!{2,}/g)].map((match) => match[0]));
  if (exclamations.length > 0) problems.push(`repeated exclamation marks "${exclamations.join('", "')}"`);
  const slang = unique([...prose.matchAll(SLANG_PATTERN)].map((match) => match[0].toLowerCase().replace(/\s+/g, ' ')));
  if (slang.length > 0) problems.push(`slang ${quoted(slang)}`);
  const shouting = unique(
    (prose.match(SHOUTING_WORD) ?? []).filter((word) => !allowedCaps.has(normalizedWordKey(word))),
  );
  if (shouting.length > 0) problems.push(`all-caps ${quoted(shouting)}`);
  return problems;
}

function checkTone(input: LintInput): LintFinding[] {
  const { message, interview } = input;
  // Acronyms the candidate chose for their own signature (a certification, say) are theirs to use.
  const allowedCaps = allowedWordsOf(input);
  for (const token of (interview.candidate.signature ?? '').match(WORD_TOKEN) ?? []) allowedCaps.add(normalizedWordKey(token));
  const problems = findToneProblems(`${message.subject}\n${message.body}`, allowedCaps);
  if (problems.length === 0) return [];
  return [{ rule: 'L8', level: 'warning', detail: `unprofessional tone: ${problems.join('; ')}` }];
}

// ---------------------------------------------------------------------------------------------
// L9 carries the candidate's contact details

/** Digits of every phone-like run in the text. */
function phoneNumbersIn(text: string): string[] {
  return (text.match(PHONE_PATTERN) ?? []).map(phoneDigits);
}

/** Same number, with or without a country code or trunk prefix. */
function samePhoneNumber(a: string, b: string): boolean {
  if (a.length < 7 || b.length < 7) return false;
  return a === b || a.endsWith(b) || b.endsWith(a);
}

function checkContactDetails({ kind, message, interview }: LintInput): LintFinding[] {
  // The call task goes to the candidate: their own contact details would be noise.
  if (kind === 'call_task') return [];
  const { email, phone } = interview.candidate;
  const body = foldText(message.body).toLowerCase();
  const hasEmail = email.trim().length > 0 && body.includes(foldText(email.trim()).toLowerCase());
  const candidatePhone = phoneDigits(phone ?? '');
  const hasPhone = phoneNumbersIn(message.body).some((digits) => samePhoneNumber(digits, candidatePhone));
  if (hasEmail || hasPhone) return [];
  const wanted = [email.trim(), phone?.trim() ?? ''].filter((detail) => detail.length > 0);
  return [
    {
      rule: 'L9',
      level: 'warning',
      detail: `the body carries none of the candidate's contact details (${wanted.join(' or ')})`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// L10 a final check-in asks about next steps or the timeline

const POLITE_REQUEST =
  /(?<![\p{L}])(?:(?:could|would|can|will) you|let me know|i would (?:appreciate|be grateful|welcome|love to (?:hear|know|learn))|i(?:'d| would) be (?:glad|happy|grateful) to (?:hear|know|learn)|please (?:share|tell me|advise)|may i ask)(?![\p{L}])/iu;
const NEXT_STEPS_TERMS =
  /(?<![\p{L}])(?:next steps?|timeline|time ?frame|time ?scale|timing|decision|process|update|status|schedule|where things stand|when (?:you|the team) (?:expect|plan|hope) to)(?![\p{L}])/iu;

export function asksAboutNextSteps(body: string): boolean {
  return splitSentences(foldText(body)).some((sentence) => {
    const isQuestion = /\?["')\]]*$/.test(sentence) || POLITE_REQUEST.test(sentence);
    return isQuestion && NEXT_STEPS_TERMS.test(sentence.replace(/\s+/g, ' '));
  });
}

function checkAsksNextSteps({ kind, message }: LintInput): LintFinding[] {
  if (kind !== 'final_check_in' || asksAboutNextSteps(message.body)) return [];
  return [
    {
      rule: 'L10',
      level: 'error',
      detail: 'a final check-in must ask about the next steps or the timeline, e.g. "Could you let me know the next steps?"',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// L11 panel thank-yous differ only in greeting and personal line

/** The sentences of a body that should be the same across a uniform panel: no greeting, no topic sentence. */
function sharedSentences(body: string, topics: readonly string[]): string[] {
  return splitSentences(bodyAfterGreeting(body))
    .filter((sentence) => !topics.some((topic) => mentionsTopic(sentence, topic)))
    .map((sentence) => foldText(sentence).replace(/\s+/g, ' '));
}

function firstDifference(ours: readonly string[], theirs: readonly string[]): string {
  const length = Math.max(ours.length, theirs.length);
  for (let index = 0; index < length; index += 1) {
    if (ours[index] !== theirs[index]) return ours[index] ?? `(ends where the sibling goes on: "${theirs[index] ?? ''}")`;
  }
  return '';
}

function checkPanelConsistency({ kind, message, policy, panelSiblings, interview }: LintInput): LintFinding[] {
  if (policy.panelConsistency !== 'uniform' || kind !== 'thank_you' || !panelSiblings?.length) return [];
  const topics = cleanTopics(interview.topics);
  const ours = sharedSentences(message.body, topics);
  return panelSiblings.flatMap((sibling, index) => {
    const theirs = sharedSentences(sibling.body, topics);
    const difference = firstDifference(ours, theirs);
    if (difference.length === 0 && ours.length === theirs.length) return [];
    const shortened = difference.length > 80 ? `${difference.slice(0, 77)}...` : difference;
    return [
      {
        rule: 'L11',
        level: 'warning',
        detail: `differs from panel sibling ${index + 1} ("${greetingOf(sibling.body)}") beyond the greeting and personal line, first at "${shortened}"`,
      } satisfies LintFinding,
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// L12 not canned

/** Channels that carry a letter; a text message is too short to compare this way. */
const LETTER_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['email', 'linkedin', 'handwritten']);

export function isLetterChannel(channel: Channel): boolean {
  return LETTER_CHANNELS.has(channel);
}

function checkCanned({ channel, kind, message, canned }: LintInput): LintFinding[] {
  if (!canned || kind === 'call_task' || !LETTER_CHANNELS.has(channel)) return [];
  const match = findCannedMatch(canned.index, letterHashes(message.body), canned.self);
  if (!match) return [];
  return [
    {
      rule: 'L12',
      level: 'error',
      detail:
        `shares ${match.shared} of its ${match.total} sentences with message ${match.messageId}, which another candidate sent ` +
        `to the same address or company in the last 90 days${canned.messageId ? ` (this message: ${canned.messageId})` : ''}`,
    },
  ];
}
