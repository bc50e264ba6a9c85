// The English dictionary for lint rule L7. Loading Hunspell data takes a few hundred
// milliseconds, so the checker is built on first use and shared by every later caller.

import dictionary from 'dictionary-en';
import nspell from 'nspell';
import type { SpellChecker } from '../domain/lint.js';

let englishSpellChecker: SpellChecker | undefined;
let timesLoaded = 0;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Words remembered before the memo starts over: a working vocabulary, bounded. */
const MEMO_LIMIT = 50_000;

function loadEnglishSpellChecker(): SpellChecker {
  timesLoaded += 1;
  // dictionary-en hands out Uint8Arrays; nspell's typings want Buffers: wrap the same bytes.
  const hunspell = nspell({ aff: asBuffer(dictionary.aff), dic: asBuffer(dictionary.dic) });
  // Follow-ups reuse a small vocabulary, and a Hunspell lookup costs far more than a Map hit.
  const memo = new Map<string, boolean>();
  return {
    correct(word: string): boolean {
      let known = memo.get(word);
      if (known === undefined) {
        if (memo.size >= MEMO_LIMIT) memo.clear();
        known = hunspell.correct(word);
        memo.set(word, known);
      }
      return known;
    },
  };
}

/** The shared English (en-US) spell checker; cheap to call repeatedly. */
export function createEnglishSpellChecker(): SpellChecker {
  englishSpellChecker ??= loadEnglishSpellChecker();
  return englishSpellChecker;
}

/** How many times the dictionary has been loaded in this process (tests check it stays at one). */
export function englishDictionaryLoadCount(): number {
  return timesLoaded;
}
