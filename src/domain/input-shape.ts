// The shape every request's input must have before anything reads it closely: no NUL
// characters (PostgreSQL cannot store them in text, and C-based tools downstream cut strings
// at them), and nesting no deeper than a person would write, so that nothing which walks a
// value recursively (validation, coercion, JSON.stringify, the GraphQL parser) can run out of
// stack. Both checks are linear and stop at the first problem.

/** Objects and arrays inside each other: 64 levels, far beyond any input the API defines. */
export const MAX_INPUT_DEPTH = 64;

export const NUL_PROBLEM = 'must not contain NUL characters (U+0000)';

export interface InputProblem {
  /** Where the problem is: object keys and array indexes from the top. */
  path: Array<string | number>;
  problem: string;
}

/**
 * The first string holding a NUL character, object key holding one, or object or array
 * nested more than `maxDepth` levels deep (the outermost counts as level 1), or null.
 * The walk recurses at most `maxDepth` levels whatever the value.
 */
export function inputShapeProblem(value: unknown, maxDepth: number = MAX_INPUT_DEPTH): InputProblem | null {
  // The path is built only on the way back out of a problem, so a clean value costs no allocation.
  const walk = (current: unknown, depth: number): InputProblem | null => {
    if (typeof current === 'string') return current.includes('\u0000') ? { path: [], problem: NUL_PROBLEM } : null;
    if (current === null || typeof current !== 'object') return null;
    if (depth > maxDepth) return { path: [], problem: `is nested more than ${maxDepth} levels deep` };
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length; index += 1) {
        const problem = walk(current[index], depth + 1);
        if (problem) return problem.path.unshift(index), problem;
      }
      return null;
    }
    for (const key in current) {
      if (!Object.hasOwn(current, key)) continue;
      if (key.includes('\u0000')) return { path: [], problem: 'has a field name with a NUL character (U+0000)' };
      const problem = walk((current as Record<string, unknown>)[key], depth + 1);
      if (problem) return problem.path.unshift(key), problem;
    }
    return null;
  };
  return walk(value, 1);
}

/** A problem's path as the dotted field name errors carry (`interviewers.1.name`), at most a few levels. */
export function fieldOf(problem: InputProblem, prefix?: string, maxSegments = 6): string {
  const segments = [...(prefix ? [prefix] : []), ...problem.path];
  const shown = segments.slice(0, maxSegments).map(String).join('.');
  return segments.length > maxSegments ? `${shown}…` : shown || 'body';
}

export interface DocumentLimits {
  maxBytes: number;
  /** Braces, brackets and parentheses inside each other. */
  maxDepth: number;
}

// What the scan stops at; everything else is skipped by the regular expression engine.
const SIGNIFICANT = /[{[(}\])#"]/g;
const LINE_END = /[\n\r]/g;
const STRING_END = /["\\\n\r]/g;

/**
 * Checked on the query text before it is parsed: its size in UTF-8 and how deeply its
 * selection sets, lists, objects and argument lists nest. The GraphQL parser descends one
 * stack frame per level, so a deep enough document would exhaust the stack in the parser
 * itself. Strings, block strings and comments are skipped as the GraphQL lexer skips them; a
 * document this scan misreads is one the parser refuses at that same point anyway.
 */
export function graphQLDocumentProblem(source: string, limits: DocumentLimits): string | null {
  if (source.length > limits.maxBytes || (source.length * 3 > limits.maxBytes && Buffer.byteLength(source, 'utf8') > limits.maxBytes)) {
    return `is ${Buffer.byteLength(source, 'utf8')} bytes, over the limit of ${limits.maxBytes}`;
  }
  let depth = 0;
  SIGNIFICANT.lastIndex = 0;
  for (let match = SIGNIFICANT.exec(source); match; match = SIGNIFICANT.exec(source)) {
    const at = match.index;
    switch (match[0]) {
      case '{':
      case '[':
      case '(':
        if (++depth > limits.maxDepth) return `nests braces, brackets or parentheses more than ${limits.maxDepth} levels deep`;
        break;
      case '}':
      case ']':
      case ')':
        depth -= 1;
        break;
      case '#':
        SIGNIFICANT.lastIndex = skipPast(LINE_END, source, at + 1);
        break;
      default:
        SIGNIFICANT.lastIndex = source.startsWith('"""', at) ? blockStringEnd(source, at + 3) : stringEnd(source, at + 1);
    }
  }
  return null;
}

/** Where the scan resumes after the first match of `pattern` from `from` (the end when none). */
function skipPast(pattern: RegExp, source: string, from: number): number {
  pattern.lastIndex = from;
  const found = pattern.exec(source);
  return found ? found.index + 1 : source.length;
}

/** After a string's closing quote; a line break or the end of the text also ends it, as in the lexer. */
function stringEnd(source: string, from: number): number {
  let index = from;
  for (;;) {
    STRING_END.lastIndex = index;
    const found = STRING_END.exec(source);
    if (!found) return source.length;
    if (found[0] !== '\\') return found.index + 1;
    index = found.index + 2;
  }
}

/** After a block string's closing triple quote; `\"""` inside it is an escaped one. */
function blockStringEnd(source: string, from: number): number {
  let index = from;
  for (;;) {
    const close = source.indexOf('"""', index);
    if (close < 0) return source.length;
    if (source[close - 1] !== '\\') return close + 3;
    index = close + 3;
  }
}
