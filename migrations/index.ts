import type { Migration } from 'kysely';
import * as foundation from './0001-foundation.js';
import * as followUpPlans from './0002-follow-up-plans.js';
import * as delivery from './0003-delivery.js';
import * as webhooks from './0004-webhooks.js';
import * as acceptance from './0005-acceptance.js';
import * as leaseRecovery from './0006-lease-recovery.js';
import * as tokensAndSecrets from './0007-tokens-and-secrets.js';
import * as debrief from './0008-debrief.js';
import * as inbound from './0009-inbound.js';
import * as reviewLinks from './0013-review-links.js';
import * as fairClaims from './0015-fair-claims.js';
import * as sendingDomains from './0016-sending-domains.js';

// The in-code list of migrations (rather than a folder scan) works the same under tsx, vitest
// and the compiled dist/. Names sort in the order they must run; never rename one.
export const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-follow-up-plans': followUpPlans,
  '0003-delivery': delivery,
  '0004-webhooks': webhooks,
  '0005-acceptance': acceptance,
  '0006-lease-recovery': leaseRecovery,
  '0007-tokens-and-secrets': tokensAndSecrets,
  '0008-debrief': debrief,
  '0009-inbound': inbound,
  '0013-review-links': reviewLinks,
  '0015-fair-claims': fairClaims,
  '0016-sending-domains': sendingDomains,
};
