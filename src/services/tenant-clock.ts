import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { findTestClock } from '../db/tenants.js';
import type { Caller, ServiceContext } from './context.js';

// Whose time it is. A sandbox tenant's "now" is its test clock, stored with the tenant and
// frozen between advances; every use-case reads time through ctx.clock, so resolving the clock
// per tenant here gives everything of a sandbox (plans, evaluation, replies, review links,
// webhook timestamps) the sandbox's time without any use-case knowing about sandboxes.

// Tenants never change from live to sandbox while the service runs (the development tenant of
// an old data directory becomes one at start-up, before any request), so a tenant once seen
// live needs no further lookup.
const KNOWN_LIVE_LIMIT = 10_000;
const knownLive = new Set<string>();

/**
 * The clock of one tenant: `clock` itself for a live tenant (or an unknown one), a frozen
 * reading of the test clock for a sandbox.
 */
export async function clockForTenant(db: Kysely<Database>, tenantId: string, clock: () => Date): Promise<() => Date> {
  if (knownLive.has(tenantId)) return clock;
  const found = await findTestClock(db, tenantId);
  if (!found?.sandbox || !found.test_clock_at) {
    if (found) {
      if (knownLive.size >= KNOWN_LIVE_LIMIT) knownLive.clear();
      knownLive.add(tenantId);
    }
    return clock;
  }
  const now = found.test_clock_at.getTime();
  return () => new Date(now);
}

/** The services as the caller's tenant sees them: a sandbox's clock is its test clock. */
export function servicesForCaller(services: ServiceContext, caller: Caller): Promise<ServiceContext> {
  return servicesForTenant(services, caller.tenantId);
}

/**
 * The same for work that arrives without a caller but names its tenant (inbound mail: a reply
 * to a sandbox's kept message is received at the sandbox's time; a review link opened).
 */
export async function servicesForTenant(services: ServiceContext, tenantId: string): Promise<ServiceContext> {
  const clock = await clockForTenant(services.db, tenantId, services.clock);
  return clock === services.clock ? services : { ...services, clock };
}
