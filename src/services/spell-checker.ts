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

function loadEnglishSpellChecker(): SpellChecker {
  timesLoaded += 1;
  // dictionary-en hands out Uint8Arrays; nspell's typings want Buffers: wrap the same bytes.
  const hunspell = nspell({ aff: asBuffer(dictionary.aff), dic: asBuffer(dictionary.dic) });
  return { correct: (word: string): boolean => hunspell.correct(word) };
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
