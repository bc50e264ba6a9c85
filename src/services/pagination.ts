import { isId } from '../db/ids.js';
import { ServiceError } from './errors.js';

// Relay-style pages over UUIDv7 ids: the id order is creation order and never changes, so a
// cursor is just the last id seen, wrapped so partners treat it as opaque.

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface PageRequest {
  first?: number | null | undefined;
  after?: string | null | undefined;
}

export interface Page<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export function encodeCursor(id: string): string {
  return Buffer.from(`c1:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = cursor.length <= 200 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const id = text.startsWith('c1:') ? text.slice(3) : '';
  if (!isId(id)) throw new ServiceError('BAD_USER_INPUT', 'after is not a cursor this API gave out', 'after');
  return id;
}

/** Validates `first`/`after` and says how many rows to fetch (one more than asked, to know if more follow). */
export function pageWindow(request: PageRequest, defaultSize = DEFAULT_PAGE_SIZE): { limit: number; size: number; afterId: string | undefined } {
  const size = request.first ?? defaultSize;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw new ServiceError('BAD_USER_INPUT', `first must be between 0 and ${MAX_PAGE_SIZE}`, 'first');
  }
  return { limit: size + 1, size, afterId: request.after ? decodeCursor(request.after) : undefined };
}

export function toPage<Row extends { id: string }, T>(rows: Row[], size: number, map: (row: Row) => T): Page<T> {
  const kept = rows.slice(0, size);
  const cursors = kept.map((row) => encodeCursor(row.id));
  return {
    items: kept.map(map),
    cursors,
    hasNextPage: rows.length > size,
    endCursor: cursors.at(-1) ?? null,
  };
}
