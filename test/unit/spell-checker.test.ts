import { describe, expect, it } from 'vitest';
import { createEnglishSpellChecker, englishDictionaryLoadCount } from '../../src/services/spell-checker.js';

describe('createEnglishSpellChecker', () => {
  const spell = createEnglishSpellChecker();

  it.each(['interview', 'Thank', 'opportunity', 'consideration', "company's", "don't", 'Tuesday', 'March', 'I'])('knows "%s"', (word) => {
    expect(spell.correct(word)).toBe(true);
  });

  it.each(['recieve', 'intervew', 'oppurtunity', 'teh', 'correspondance', 'consise'])('does not know "%s"', (word) => {
    expect(spell.correct(word)).toBe(false);
  });

  it('loads the dictionary once and shares it', () => {
    const started = performance.now();
    const again = createEnglishSpellChecker();
    const elapsed = performance.now() - started;
    expect(again).toBe(spell);
    expect(createEnglishSpellChecker()).toBe(spell);
    expect(englishDictionaryLoadCount()).toBe(1);
    expect(elapsed).toBeLessThan(20);
  });
});
