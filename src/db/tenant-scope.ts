import { type RawBuilder, sql } from 'kysely';

// Whose due work a claim takes. The live worker runs by the wall clock, so it never takes a
// sandbox's steps or messages (their due times are in the sandbox's own time); a sandbox's work
// runs when its test clock is advanced, one tenant at a time.

export type TenantScope = 'live' | 'all' | { tenantId: string };

export const LIVE_TENANTS: TenantScope = 'live';

/** The condition on `tenants AS t` in a claim. */
export function tenantFilter(scope: TenantScope): RawBuilder<unknown> {
  if (scope === 'live') return sql`NOT t.sandbox`;
  if (scope === 'all') return sql`true`;
  return sql`t.tenant_id = ${scope.tenantId}`;
}
