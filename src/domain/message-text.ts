// Small text helpers shared by the templates and the lint: reading a person's name, folding
// text for tolerant comparison, and matching a phrase on word boundaries. Pure functions.

import type { InterviewFacts, InterviewerFacts } from './types.js';

/** Courtesy titles that may precede a name, compared without the trailing dot. */
const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'professor']);
const NAME_SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'phd', 'md', 'esq']);

export interface PersonName {
  /** The name as given, whitespace collapsed. */
  full: string;
  /** The name without a leading courtesy title or trailing suffix ("Dr. Ada King, PhD" → "Ada King"). */
  core: string;
  first: string;
  /** The last word of the core name; empty for a one-word name. */
  last: string;
  /**
   * Every way the family name may be written after a courtesy title: each trailing run of the
   * core name, so "María García López" gives "García López" and "López".
   */
  familyNames: string[];
}

function bareToken(token: string): string {
  return token.toLowerCase().replace(/[.,]/g, '');
}

export function splitPersonName(name: string): PersonName {
  const full = name.trim().replace(/\s+/g, ' ');
  const tokens = full.split(' ').filter((token) => token.length > 0);
  let start = 0;
  let end = tokens.length;
  while (start < end - 1 && HONORIFICS.has(bareToken(tokens[start] ?? ''))) start += 1;
  while (end - 1 > start && NAME_SUFFIXES.has(bareToken(tokens[end - 1] ?? ''))) end -= 1;
  // A suffix written after a comma ("Ada King, PhD") leaves the comma on the last kept word.
  const coreTokens = tokens.slice(start, end).map((token, index, all) => (index === all.length - 1 ? token.replace(/,$/, '') : token));
  const familyNames: string[] = [];
  for (let index = 1; index < coreTokens.length; index += 1) familyNames.push(coreTokens.slice(index).join(' '));
  return {
    full,
    core: coreTokens.join(' '),
    first: coreTokens[0] ?? '',
    last: coreTokens.length > 1 ? (coreTokens[coreTokens.length - 1] ?? '') : '',
    familyNames,
  };
}

/**
 * Folds text for comparisons that should not care about accents, typographic apostrophes or
 * dashes: "José O’Brien–Núñez" and "Jose O'Brien-Nunez" fold alike. Case is kept; callers
 * lowercase when they want to.
 */
// Lint folds the same body for several rules in a row; remembering the last few saves the
// repeated Unicode normalisation (pure, so a cache changes nothing but time).
const FOLD_MEMO_LIMIT = 64;
const foldMemo = new Map<string, string>();

/** Plain ASCII other than the backtick folds to itself: most words and many bodies. */
const NEEDS_FOLDING = /[^\x00-\x5f\x61-\x7f]/;

export function foldText(text: string): string {
  if (!NEEDS_FOLDING.test(text)) return text;
  const remembered = foldMemo.get(text);
  if (remembered !== undefined) return remembered;
  const folded = text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[\u2018\u2019\u02BC`\u00B4]/g, "'")
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .normalize('NFC');
  if (foldMemo.size >= FOLD_MEMO_LIMIT) foldMemo.clear();
  foldMemo.set(text, folded);
  return folded;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A pattern for `phrase` that only matches whole words: letters or digits may not touch it on
 * either side, so "Ann" does not match inside "Annual". Inner whitespace matches any whitespace.
 */
// The same names and topics are looked for in message after message: compile each pattern once.
const PATTERN_MEMO_LIMIT = 2_000;
const patternMemo = new Map<string, RegExp>();

function memoizedPattern(source: string, flags: string): RegExp {
  const key = `${flags}/${source}`;
  let pattern = patternMemo.get(key);
  if (!pattern) {
    if (patternMemo.size >= PATTERN_MEMO_LIMIT) patternMemo.clear();
    pattern = new RegExp(source, flags);
    patternMemo.set(key, pattern);
  }
  // A global pattern keeps its position between uses; every caller starts from the beginning.
  pattern.lastIndex = 0;
  return pattern;
}

export function phrasePattern(phrase: string, options: { ignoreCase: boolean; global?: boolean }): RegExp {
  const body = escapeRegExp(phrase.trim()).replace(/\s+/g, '\\s+');
  const flags = `u${options.ignoreCase ? 'i' : ''}${options.global ? 'g' : ''}`;
  return memoizedPattern(`(?<![\\p{L}\\p{N}])${body}(?![\\p{L}\\p{N}])`, flags);
}

/** Whether `text` names `phrase` as whole words, after folding both (accents, apostrophes). */
export function mentionsPhrase(text: string, phrase: string, options: { ignoreCase: boolean }): boolean {
  const folded = foldText(phrase).trim();
  if (folded.length === 0) return false;
  return phrasePattern(folded, options).test(foldText(text));
}

/** The courtesy-title prefix pattern used when a family name follows "Ms." / "Dr." and so on. */
export const HONORIFIC_PATTERN = '(?:mr|mrs|ms|miss|mx|dr|prof|professor)\\.?';

/** Whether `text` writes "<title> <family name>" for this person, e.g. "Dr. Hopper". */
export function mentionsTitledFamilyName(text: string, person: PersonName): boolean {
  const folded = foldText(text);
  return person.familyNames.some((family) => {
    const body = escapeRegExp(foldText(family)).replace(/\s+/g, '\\s+');
    return memoizedPattern(`(?<![\\p{L}\\p{N}])${HONORIFIC_PATTERN}\\s+${body}(?![\\p{L}\\p{N}])`, 'iu').test(folded);
  });
}

/**
 * The interviewer the follow-ups after the thank-you go to, and whom a call task names: the
 * partner's primary contact, else the first interviewer listed.
 */
export function primaryContactOf(interview: InterviewFacts): InterviewerFacts | undefined {
  return interview.interviewers.find((interviewer) => interviewer.isPrimaryContact) ?? interview.interviewers[0];
}

/** The interview's topics, trimmed, blank ones and repeats (ignoring case) dropped. */
export function cleanTopics(topics: readonly string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const raw of topics) {
    const topic = raw.trim().replace(/\s+/g, ' ');
    const key = foldText(topic).toLowerCase();
    if (topic.length === 0 || seen.has(key)) continue;
    seen.add(key);
    result.push(topic);
  }
  return result;
}

/** Only digits, for comparing phone numbers written in different styles. */
export function phoneDigits(phone: string): string {
  return phone.replace(/\D/g, '');
}

/** Courtesy titles as written in a greeting, US style; British style drops the dot. */
const HONORIFIC_SPELLING: Readonly<Record<string, string>> = {
  mr: 'Mr.',
  mrs: 'Mrs.',
  ms: 'Ms.',
  miss: 'Miss',
  mx: 'Mx.',
  dr: 'Dr.',
  prof: 'Prof.',
  professor: 'Professor',
};

/** Whether a word is a courtesy title we know ("Dr", "dr.", "Professor"). */
export function isHonorific(word: string): boolean {
  return HONORIFICS.has(bareToken(word));
}

/** The courtesy title a name starts with ("Dr. Kenji Watanabe" gives "Dr."), or null. */
export function honorificInName(name: string): string | null {
  const first = name.trim().split(/\s+/)[0] ?? '';
  return name.trim().split(/\s+/).length > 1 && isHonorific(first) ? first : null;
}

/** A courtesy title written the locale's way: "Dr." in American English, "Dr" in British. */
export function spellHonorific(honorific: string, locale: 'en-US' | 'en-GB'): string {
  const known = HONORIFIC_SPELLING[bareToken(honorific)];
  if (!known) return honorific.trim();
  return locale === 'en-GB' ? known.replace(/\.$/, '') : known;
}

/**
 * The name after "Dear": the first name (`first_name`), or the courtesy title and family name
 * (`formal`: "Dr. Watanabe"), or the full name when no title is known.
 */
export function greetingName(name: string, honorific: string | null | undefined, style: 'first_name' | 'formal', locale: 'en-US' | 'en-GB'): string {
  const person = splitPersonName(name);
  if (style === 'first_name') return person.first || person.full;
  const title = honorific?.trim() || honorificInName(name);
  const family = person.familyNames[0];
  if (title && family) return `${spellHonorific(title, locale)} ${family}`;
  return person.core || person.full;
}
