import { type RawBuilder, sql } from 'kysely';

// Whose due webhook deliveries a claim takes: every tenant's (the live worker; a sandbox's fall
// due by its test clock, so they go in its own time), or one tenant's (an advance of a sandbox's
// clock delivers its webhooks before it answers). Steps and messages of sandboxes are never the
// live worker's: src/db/test-clock.ts claims them for an advance.

export type TenantScope = 'all' | { tenantId: string };

/** The condition on `tenants AS t` in a claim. */
export function tenantFilter(scope: TenantScope): RawBuilder<unknown> {
  if (scope === 'all') return sql`true`;
  return sql`t.tenant_id = ${scope.tenantId}`;
}
