import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('schema.graphql', () => {
  // GraphQL names (fields, enum values) are cut out of the schema text. One character beyond
  // ASCII anywhere in it, an ellipsis in a description say, makes every one of them a two-byte
  // string, and so is every response body built with them: measured, that added most of a
  // millisecond to sending each page of 50 interviews.
  it('is plain ASCII', () => {
    const text = fs.readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    const lines = text.split('\n').flatMap((line, index) => (/[^\x00-\x7f]/.test(line) ? [`${index + 1}: ${line}`] : []));
    expect(lines).toEqual([]);
  });
});
