import type { Migration } from 'kysely';
import * as foundation from './0001-foundation.js';
import * as followUpPlans from './0002-follow-up-plans.js';
import * as delivery from './0003-delivery.js';
import * as webhooks from './0004-webhooks.js';
import * as acceptance from './0005-acceptance.js';
import * as sandboxes from './0010-sandboxes.js';

// The in-code list of migrations (rather than a folder scan) works the same under tsx, vitest
// and the compiled dist/. Names sort in the order they must run; never rename one.
export const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-follow-up-plans': followUpPlans,
  '0003-delivery': delivery,
  '0004-webhooks': webhooks,
  '0005-acceptance': acceptance,
  '0010-sandboxes': sandboxes,
};
