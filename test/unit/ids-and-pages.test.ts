import { describe, expect, it } from 'vitest';
import { isId, newId } from '../../src/db/ids.js';
import { encodeCursor, pageWindow, toPage } from '../../src/services/pagination.js';
import { ServiceError } from '../../src/services/errors.js';

describe('ids', () => {
  it('are UUIDv7 and strictly increasing within a process', () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    expect(ids.every(isId)).toBe(true);
    expect(ids.every((id) => id[14] === '7')).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('pages', () => {
  it('defaults to 20, caps at 100 and fetches one extra row to know if more follow', () => {
    expect(pageWindow({})).toEqual({ limit: 21, size: 20, afterId: undefined });
    expect(pageWindow({ first: 100 }).limit).toBe(101);
    expect(() => pageWindow({ first: 101 })).toThrow(ServiceError);
    expect(() => pageWindow({ first: -1 })).toThrow(/between 0 and 100/);
  });

  it('round-trips cursors and refuses made-up ones', () => {
    const id = newId();
    expect(pageWindow({ after: encodeCursor(id) }).afterId).toBe(id);
    expect(() => pageWindow({ after: 'abc' })).toThrow(/cursor/);
    expect(() => pageWindow({ after: Buffer.from('c1:nope').toString('base64url') })).toThrow(/cursor/);
  });

  it('keeps the requested rows and reports whether more exist', () => {
    const rows = [{ id: newId() }, { id: newId() }, { id: newId() }];
    const page = toPage(rows, 2, (row) => row.id);
    expect(page.items).toEqual([rows[0]!.id, rows[1]!.id]);
    expect(page.hasNextPage).toBe(true);
    expect(page.endCursor).toBe(encodeCursor(rows[1]!.id));
    expect(toPage(rows, 5, (row) => row.id).hasNextPage).toBe(false);
  });
});
