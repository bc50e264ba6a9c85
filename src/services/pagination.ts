import { isId } from '../db/ids.js';
import { ServiceError } from './errors.js';

// Relay-style pages by keyset. Most lists follow UUIDv7 ids (creation order, never changing),
// so their cursor is the last id seen; lists in time order (steps by due time) carry the time
// too. Either is wrapped so partners treat it as opaque.

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

export interface TimeKey {
  at: Date;
  id: string;
}

export function encodeCursor(id: string): string {
  return Buffer.from(`c1:${id}`).toString('base64url');
}

export function encodeTimeCursor(key: TimeKey): string {
  return Buffer.from(`c2:${key.at.getTime()}:${key.id}`).toString('base64url');
}

function refuseCursor(): ServiceError {
  return new ServiceError('BAD_USER_INPUT', 'after is not a cursor this API gave out', 'after');
}

function cursorText(cursor: string): string {
  return cursor.length <= 200 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
}

function decodeCursor(cursor: string): string {
  const text = cursorText(cursor);
  const id = text.startsWith('c1:') ? text.slice(3) : '';
  if (!isId(id)) throw refuseCursor();
  return id;
}

function decodeTimeCursor(cursor: string): TimeKey {
  const match = /^c2:(\d{1,15}):(.+)$/.exec(cursorText(cursor));
  if (!match || !isId(match[2]!)) throw refuseCursor();
  return { at: new Date(Number(match[1])), id: match[2]! };
}

function pageSize(request: PageRequest, defaultSize: number): number {
  const size = request.first ?? defaultSize;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw new ServiceError('BAD_USER_INPUT', `first must be between 0 and ${MAX_PAGE_SIZE}`, 'first');
  }
  return size;
}

/** Validates `first`/`after` and says how many rows to fetch (one more than asked, to know if more follow). */
export function pageWindow(request: PageRequest, defaultSize = DEFAULT_PAGE_SIZE): { limit: number; size: number; afterId: string | undefined } {
  const size = pageSize(request, defaultSize);
  return { limit: size + 1, size, afterId: request.after ? decodeCursor(request.after) : undefined };
}

/** The same for lists in time order. */
export function timePageWindow(request: PageRequest, defaultSize = DEFAULT_PAGE_SIZE): { limit: number; size: number; after: TimeKey | undefined } {
  const size = pageSize(request, defaultSize);
  return { limit: size + 1, size, after: request.after ? decodeTimeCursor(request.after) : undefined };
}

export function toPage<Row extends { id: string }, T>(
  rows: Row[],
  size: number,
  map: (row: Row) => T,
  cursorOf: (row: Row) => string = (row) => encodeCursor(row.id),
): Page<T> {
  const kept = rows.slice(0, size);
  const cursors = kept.map(cursorOf);
  return {
    items: kept.map(map),
    cursors,
    hasNextPage: rows.length > size,
    endCursor: cursors.at(-1) ?? null,
  };
}
