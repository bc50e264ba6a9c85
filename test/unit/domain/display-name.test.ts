import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withoutInvisibleFormatting } from '../../../src/domain/display-name.js';

// The characters the issue names, written out here rather than taken from the implementation.
const DIRECTION_CONTROLS = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'];
const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'];
const INVISIBLE = new Set([...DIRECTION_CONTROLS, ...ZERO_WIDTH]);

describe('display names lose direction-control and zero-width characters', () => {
  it.each([
    ['Ada Lovelace', 'Ada Lovelace'],
    ['\u202eAda Lovelace', 'Ada Lovelace'],
    ['Invoice \u202egnp.exe', 'Invoice gnp.exe'],
    ['\u2067Grace\u2069 Hopper', 'Grace Hopper'],
    ['Ad\u200ba', 'Ada'],
    ['\ufeffZoë\u2060 Łukasiewicz', 'Zoë Łukasiewicz'],
    ['\u200e\u200f\u061c', ''],
    ['山田\u200d太郎', '山田太郎'],
    // Letters of right-to-left scripts stay; only the invisible marks go.
    ['\u200fשרה כהן', 'שרה כהן'],
    ['محمد\u061c علي', 'محمد علي'],
    // Visible characters that look like spaces or marks are not touched.
    ['Ada\u00a0Lovelace', 'Ada\u00a0Lovelace'],
    ['O’Brien-Núñez', 'O’Brien-Núñez'],
  ])('%j → %j', (name, cleaned) => expect(withoutInvisibleFormatting(name)).toBe(cleaned));

  const names = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.array(fc.oneof(fc.constantFrom(...INVISIBLE), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 })), { maxLength: 20 }).map((parts) => parts.join('')),
    fc.string({ unit: 'binary', maxLength: 30 }),
  );

  it('leaves none of them, keeps every other character in order, and changes nothing twice', () => {
    fc.assert(
      fc.property(names, (name) => {
        const cleaned = withoutInvisibleFormatting(name);
        expect([...cleaned].some((character) => INVISIBLE.has(character))).toBe(false);
        expect(cleaned).toBe([...name].filter((character) => !INVISIBLE.has(character)).join(''));
        expect(withoutInvisibleFormatting(cleaned)).toBe(cleaned);
      }),
      { numRuns: 500 },
    );
  });

  it('a name without them is returned as it was', () => {
    fc.assert(
      fc.property(
        names.filter((name) => ![...name].some((character) => INVISIBLE.has(character))),
        (name) => {
          expect(withoutInvisibleFormatting(name)).toBe(name);
        },
      ),
    );
  });
});
