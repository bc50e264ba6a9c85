// Whose due webhook deliveries a claim takes: every tenant's (the live worker, by the wall clock),
// or one tenant's (an advance of a sandbox's clock delivers its webhooks, by that clock, before it
// answers). Steps and messages of sandboxes are never the live worker's: src/db/test-clock.ts
// claims them for an advance.

export type TenantScope = 'all' | { tenantId: string };
