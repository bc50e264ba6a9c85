import { isId } from '../db/ids.js';
import { ServiceError } from '../services/errors.js';
import { encodeCursor, MAX_PAGE_SIZE, type Page, type PageRequest } from '../services/pagination.js';

// Lists over REST page like Stripe's: `limit` (1-100, default 20) and `starting_after` (the id
// of the last object of the page before), answering `{ object: "list", data, has_more }`.

export const listQuerySchema = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20, description: `How many objects, 1 to ${MAX_PAGE_SIZE}` },
  starting_after: { type: 'string', description: 'The id of the last object of the previous page: the list goes on after it' },
} as const;

export function listSchema(item: object, description: string) {
  return {
    type: 'object',
    description,
    required: ['object', 'data', 'has_more'],
    properties: {
      object: { type: 'string', enum: ['list'] },
      data: { type: 'array', items: item },
      has_more: { type: 'boolean', description: 'True when more follow: ask again with starting_after the last id of data' },
    },
  } as const;
}

/** `limit` and `starting_after` as the services' page request; every problem named. */
export function pageRequestOf(query: { limit?: unknown; starting_after?: unknown }): PageRequest {
  const problems: Array<{ field: string; message: string }> = [];
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) problems.push({ field: 'limit', message: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` });
  const after = query.starting_after;
  if (after !== undefined && (typeof after !== 'string' || !isId(after))) problems.push({ field: 'starting_after', message: 'starting_after must be the id of an object of this list' });
  if (problems.length > 0) throw new ServiceError('BAD_USER_INPUT', problems[0]!.message, problems[0]!.field, problems);
  return { first: limit, after: typeof after === 'string' ? encodeCursor(after) : undefined };
}

export function listOf<T, J>(page: Page<T>, toJson: (item: T) => J) {
  return { object: 'list' as const, data: page.items.map(toJson), has_more: page.hasNextPage };
}
