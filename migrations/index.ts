import type { Migration } from 'kysely';
import * as foundation from './0001-foundation.js';
import * as followUpPlans from './0002-follow-up-plans.js';

// The in-code list of migrations (rather than a folder scan) works the same under tsx, vitest
// and the compiled dist/. Names sort in the order they must run; never rename one.
export const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-follow-up-plans': followUpPlans,
};
