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
  const path: Array<string | number> = [];
  const found = (problem: string): InputProblem => ({ path: [...path], problem });

  const walk = (current: unknown, depth: number): InputProblem | null => {
    if (typeof current === 'string') return current.includes('\u0000') ? found(NUL_PROBLEM) : null;
    if (current === null || typeof current !== 'object') return null;
    if (depth > maxDepth) return found(`is nested more than ${maxDepth} levels deep`);
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length; index += 1) {
        path.push(index);
        const problem = walk(current[index], depth + 1);
        if (problem) return problem;
        path.pop();
      }
      return null;
    }
    for (const [key, inner] of Object.entries(current)) {
      if (key.includes('\u0000')) return found('has a field name with a NUL character (U+0000)');
      path.push(key);
      const problem = walk(inner, depth + 1);
      if (problem) return problem;
      path.pop();
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

const OPENING = new Set([0x7b, 0x5b, 0x28]); // { [ (
const CLOSING = new Set([0x7d, 0x5d, 0x29]); // } ] )
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const LF = 0x0a;
const CR = 0x0d;

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
  let index = 0;
  const length = source.length;
  while (index < length) {
    const code = source.charCodeAt(index);
    if (OPENING.has(code)) {
      depth += 1;
      if (depth > limits.maxDepth) return `nests braces, brackets or parentheses more than ${limits.maxDepth} levels deep`;
      index += 1;
    } else if (CLOSING.has(code)) {
      depth -= 1;
      index += 1;
    } else if (code === HASH) {
      while (index < length && source.charCodeAt(index) !== LF && source.charCodeAt(index) !== CR) index += 1;
    } else if (code === QUOTE && source.startsWith('"""', index)) {
      index += 3;
      while (index < length && !source.startsWith('"""', index)) index += source.startsWith('\\"""', index) ? 4 : 1;
      index += 3;
    } else if (code === QUOTE) {
      index += 1;
      while (index < length) {
        const inner = source.charCodeAt(index);
        if (inner === BACKSLASH) index += 2;
        else if (inner === QUOTE || inner === LF || inner === CR) break;
        else index += 1;
      }
      index += 1;
    } else {
      index += 1;
    }
  }
  return null;
}
