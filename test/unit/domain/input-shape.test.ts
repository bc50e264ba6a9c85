import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldOf, graphQLDocumentProblem, inputShapeProblem } from '../../../src/domain/input-shape.js';

function nested(levels: number, inner: unknown = 1): unknown {
  let value = inner;
  for (let i = 0; i < levels; i += 1) value = [value];
  return value;
}

describe('input shape: NUL characters and nesting', () => {
  it.each([
    [{ name: 'Ada' }, null],
    [{ name: 'Ada\u0000' }, { path: ['name'], problem: 'must not contain NUL characters (U+0000)' }],
    [{ interviewers: [{ name: 'ok' }, { name: 'Gr\u0000ace' }] }, { path: ['interviewers', 1, 'name'], problem: 'must not contain NUL characters (U+0000)' }],
    [{ 'a\u0000': 1 }, { path: [], problem: 'has a field name with a NUL character (U+0000)' }],
    ['\u0000', { path: [], problem: 'must not contain NUL characters (U+0000)' }],
    [{ text: 'a\u0001b\u007f', n: 1, ok: true, none: null }, null],
    [nested(64), null],
    [nested(65), { path: Array(64).fill(0), problem: 'is nested more than 64 levels deep' }],
    [{ a: nested(63) }, null],
    [{ a: nested(64) }, { path: ['a', ...Array(63).fill(0)], problem: 'is nested more than 64 levels deep' }],
  ])('%j → %j', (value, problem) => expect(inputShapeProblem(value)).toEqual(problem));

  it('refuses any depth without running out of stack', () => {
    expect(inputShapeProblem(nested(1_000_000))?.problem).toBe('is nested more than 64 levels deep');
  });

  it('names the field with a prefix, cut short when deep', () => {
    expect(fieldOf({ path: ['input', 'name'], problem: '' }, 'variables')).toBe('variables.input.name');
    expect(fieldOf({ path: [], problem: '' })).toBe('body');
    expect(fieldOf({ path: Array(64).fill(0), problem: '' }, 'variables')).toBe('variables.0.0.0.0.0…');
  });

  const jsonWithoutNul = fc.jsonValue({ maxDepth: 6 }).filter((value) => !JSON.stringify(value).includes('\\u0000'));

  it('finds a NUL character wherever it is put, and only then', () => {
    fc.assert(
      fc.property(jsonWithoutNul, fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), (value, before, after) => {
        expect(inputShapeProblem(value)).toBeNull();
        const poisoned = { wrapper: [value, `${before}\u0000${after}`] };
        expect(inputShapeProblem(poisoned)).toEqual({ path: ['wrapper', 1], problem: 'must not contain NUL characters (U+0000)' });
      }),
    );
  });

  it('refuses exactly the values deeper than the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 100 }), (levels, limit) => {
        expect(inputShapeProblem(nested(levels), limit) === null).toBe(levels <= limit);
      }),
    );
  });
});

describe('GraphQL documents before parsing', () => {
  const limits = { maxBytes: 1000, maxDepth: 4 };

  it.each([
    ['{ a { b } }', null],
    ['{ a { b { c { d } } } }', null],
    ['{ a { b { c { d { e } } } } }', 'nests braces, brackets or parentheses more than 4 levels deep'],
    ['{ a(x: [[[1]]]) }', 'nests braces, brackets or parentheses more than 4 levels deep'],
    ['{ a(x: [[1]]) }', null],
    // Inside strings, block strings and comments, brackets are text.
    ['{ a(x: "{{{{{{") }', null],
    ['{ a(x: "\\"{{{{{{") }', null],
    ['{ a(x: """ {{{{{{ \\""" {{{{ """) }', null],
    ['{ a # {{{{{{\n }', null],
    // A string cut by a line break ends there, as the lexer ends it.
    ['{ a(x: "unterminated\n {{{{{ ', 'nests braces, brackets or parentheses more than 4 levels deep'],
    ['x'.repeat(1001), 'is 1001 bytes, over the limit of 1000'],
    [`# ${'é'.repeat(499)}`, null],
    [`# ${'é'.repeat(500)}`, 'is 1002 bytes, over the limit of 1000'],
  ])('%j → %s', (source, problem) => expect(graphQLDocumentProblem(source, limits)).toBe(problem));

  it('counts the deepest nesting of any well-formed document', () => {
    // Random trees of selections: the problem appears exactly when the depth passes the limit.
    const tree: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant('f'), fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((children) => `f { ${children.join(' ')} }`)),
    })).node;
    const depthOf = (source: string) => {
      let depth = 0;
      let deepest = 0;
      for (const character of source) {
        if (character === '{') deepest = Math.max(deepest, ++depth);
        if (character === '}') depth -= 1;
      }
      return deepest;
    };
    fc.assert(
      fc.property(tree, fc.integer({ min: 1, max: 8 }), (body, maxDepth) => {
        const source = `{ ${body} }`;
        const problem = graphQLDocumentProblem(source, { maxBytes: 1_000_000, maxDepth });
        expect(problem !== null).toBe(depthOf(source) > maxDepth);
      }),
    );
  });
});
