// How much of one letter is another's: the sentences of a letter between its greeting and its
// closing, normalised and hashed. Used by the canned-letter rule (L12) against letters other
// candidates sent, and by tests of the panel (no two letters of one panel share more than half).
// Pure.

import { foldText } from './message-text.js';

/** A closing line ("Kind regards,"): where the letter's own sentences end and the signature begins. */
// Matched against lower-cased lines: case-insensitive Unicode patterns are slow in V8.
const CLOSING_LINE =
  /^(?:(?:kind|best|warm|warmest|with best|with kind|many) (?:regards|wishes|thanks)|regards|sincerely|yours sincerely|yours truly|yours|all the best|best|thanks|thank you|cheers),?$/;
const GREETING_LINE = /^(?:dear|hello|hi|good (?:morning|afternoon))\b[^.!?]*,$/;

/** The letter's sentences, normalised (case, accents, spacing), greeting and signature left out. */
export function letterSentences(body: string): string[] {
  const lines = body.split('\n').map((line) => line.trim());
  const start = lines.findIndex((line) => line.length > 0);
  const first = start >= 0 && GREETING_LINE.test((lines[start] ?? '').toLowerCase()) ? start + 1 : Math.max(start, 0);
  let end = lines.length;
  for (let index = first; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    // A closing is short; a sentence that merely starts with "Thanks" is not one.
    if (line.length <= 24 && CLOSING_LINE.test(line.toLowerCase())) {
      end = index;
      break;
    }
  }
  // Without a closing line, a last paragraph of lines that are not sentences (a name, an
  // address, a number) is the signature.
  if (end === lines.length) {
    let paragraphStart = end;
    while (paragraphStart > first && (lines[paragraphStart - 1] ?? '').length === 0) paragraphStart -= 1;
    const lastEnd = paragraphStart;
    while (paragraphStart > first && (lines[paragraphStart - 1] ?? '').length > 0) paragraphStart -= 1;
    const last = lines.slice(paragraphStart, lastEnd);
    if (paragraphStart > first && last.length > 0 && last.every((line) => !/[.!?]$/.test(line))) end = paragraphStart;
  }
  const sentences = new Set<string>();
  for (const line of lines.slice(first, end)) {
    for (const sentence of line.split(/(?<=[.!?])\s+(?=\S)/)) {
      const normal = foldText(sentence).toLowerCase().replace(/\s+/g, ' ').trim();
      if (normal.length > 0) sentences.add(normal);
    }
  }
  return [...sentences];
}

/**
 * A 64-bit hash of a normalised sentence (two FNV-1a lanes), as 16 hex digits: cheap enough to
 * run on every letter, wide enough that two different sentences of one company's letters do not
 * meet by chance. Not a secret: the sentences of a letter are not recoverable from it alone,
 * but it is not meant to resist guessing either.
 */
export function sentenceHash(sentence: string): string {
  let low = 0x811c9dc5;
  let high = 0x050c5d1f;
  for (let index = 0; index < sentence.length; index += 1) {
    const code = sentence.charCodeAt(index);
    low = Math.imul(low ^ code, 0x01000193) >>> 0;
    high = Math.imul(high ^ code, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  return low.toString(16).padStart(8, '0') + high.toString(16).padStart(8, '0');
}

// The composer, the lint and the record each hash the same letter: remember the last one.
let lastHashed: { body: string; hashes: string[] } | undefined;

export function letterHashes(body: string): string[] {
  if (lastHashed?.body === body) return lastHashed.hashes;
  const hashes = letterSentences(body).map(sentenceHash);
  lastHashed = { body, hashes };
  return hashes;
}

/** Shared sentences over the shorter letter's count: 0 (nothing shared) to 1. */
export function sharedSentenceRatio(a: string, b: string): number {
  const ours = new Set(letterSentences(a));
  const theirs = letterSentences(b);
  const smaller = Math.min(ours.size, theirs.length);
  if (smaller === 0) return 0;
  return theirs.filter((sentence) => ours.has(sentence)).length / smaller;
}

/** A letter someone sent, as L12 compares against it. */
export interface SentLetter {
  messageId: string;
  candidateId: string;
  companyId: string;
  /** The recipient's address, lower-cased. */
  address: string | null;
  sentenceCount: number;
}

/** Letters sent, by the hash of each of their sentences. */
export type SentLetterIndex = Map<string, SentLetter[]>;

export interface LetterIdentity {
  candidateId: string;
  companyId: string;
  address: string | null;
}

export interface CannedMatch {
  messageId: string;
  shared: number;
  total: number;
}

/**
 * L12: the letter by another candidate, to the same address or company, with which this one
 * shares more than half of its sentences (the most shared first), or null.
 */
export function findCannedMatch(index: SentLetterIndex, hashes: readonly string[], self: LetterIdentity): CannedMatch | null {
  if (hashes.length === 0) return null;
  const shared = new Map<SentLetter, number>();
  const address = self.address?.toLowerCase() ?? null;
  for (const hash of new Set(hashes)) {
    const letters = index.get(hash);
    if (letters === undefined) continue;
    for (const letter of letters) {
      if (letter.candidateId === self.candidateId) continue;
      if (letter.companyId !== self.companyId && (address === null || letter.address !== address)) continue;
      shared.set(letter, (shared.get(letter) ?? 0) + 1);
    }
  }
  let best: CannedMatch | null = null;
  for (const [letter, count] of shared) {
    if (count * 2 > hashes.length && (best === null || count > best.shared)) best = { messageId: letter.messageId, shared: count, total: hashes.length };
  }
  return best;
}

export function addToIndex(index: SentLetterIndex, hashes: readonly string[], letter: SentLetter): void {
  for (const hash of new Set(hashes)) {
    const letters = index.get(hash);
    if (letters) letters.push(letter);
    else index.set(hash, [letter]);
  }
}
