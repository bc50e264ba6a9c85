import type { Kysely } from 'kysely';
import { DEFAULT_POLICY } from '../domain/policy-document.js';
import { insertAuditEvents } from '../db/audit-events.js';
import { newId } from '../db/ids.js';
import { insertPolicyVersion } from '../db/policies.js';
import type { Database, TenantRow } from '../db/schema.js';
import { findTenantById, findTenantBySlug, insertTenant } from '../db/tenants.js';
import { type Caller, requireScope, type ServiceContext } from './context.js';
import { badInput, conflict, notFound } from './errors.js';

export const DEFAULT_MAIL_DOMAIN = 'afterview.localhost';

export interface TenantView {
  id: string;
  slug: string;
  name: string;
  sendingAddress: string;
  sandbox: boolean;
  /** A sandbox's now; null for a live tenant. */
  testClock: Date | null;
}

const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export async function createTenant(
  db: Kysely<Database>,
  input: { slug: string; name?: string; sendingAddress?: string; mailDomain: string; sandbox?: boolean },
  clock: () => Date = () => new Date(),
): Promise<TenantView> {
  if (!SLUG_PATTERN.test(input.slug)) {
    throw badInput('slug', 'must be 1–63 lower-case letters, digits or hyphens, not starting or ending with a hyphen');
  }
  return db.transaction().execute(async (trx) => {
    if (await findTenantBySlug(trx, input.slug)) throw conflict(`a tenant with slug ${input.slug} already exists`);
    const row = await insertTenant(trx, {
      tenant_id: newId(),
      slug: input.slug,
      name: input.name ?? input.slug,
      sending_address: input.sendingAddress ?? `${input.slug}@${input.mailDomain}`,
      // A sandbox's test clock starts at the real time.
      ...(input.sandbox ? { sandbox: true, test_clock_at: clock() } : {}),
    });
    // Every tenant starts on the documented defaults as version 1 of its policy.
    await insertPolicyVersion(trx, { tenant_id: row.tenant_id, version: 1, document: DEFAULT_POLICY, created_by: 'system' });
    await insertAuditEvents(trx, row.tenant_id, [
      { actor: 'system', action: 'tenant.created', entityType: 'tenant', entityId: row.tenant_id, data: { slug: row.slug, sandbox: row.sandbox } },
    ]);
    return toTenantView(row);
  });
}

export async function getTenantBySlug(db: Kysely<Database>, slug: string): Promise<TenantView> {
  const row = await findTenantBySlug(db, slug);
  if (!row) throw notFound('tenant', slug);
  return toTenantView(row);
}

export async function tenantExists(db: Kysely<Database>, tenantId: string): Promise<boolean> {
  return (await findTenantById(db, tenantId)) !== undefined;
}

function toTenantView(row: TenantRow): TenantView {
  return { id: row.tenant_id, slug: row.slug, name: row.name, sendingAddress: row.sending_address, sandbox: row.sandbox, testClock: row.test_clock_at };
}

// Operations over HTTP, for a running service whose embedded database no other process may
// open: the CLI calls these with an operator's token (the admin scope).

/** Operators only: a tenant by its slug, or null. */
export async function findTenantForOperator(ctx: ServiceContext, caller: Caller, slug: string): Promise<TenantView | null> {
  requireScope(caller, 'admin');
  const row = await findTenantBySlug(ctx.db, slug);
  return row ? toTenantView(row) : null;
}

/** Operators only: a new tenant (a sandbox when asked). */
export async function createTenantAsOperator(
  ctx: ServiceContext,
  caller: Caller,
  input: { slug: string; name?: string | null; sendingAddress?: string | null; sandbox?: boolean | null },
): Promise<TenantView> {
  requireScope(caller, 'admin');
  return createTenant(
    ctx.db,
    {
      slug: input.slug,
      name: input.name ?? undefined,
      sendingAddress: input.sendingAddress ?? undefined,
      sandbox: input.sandbox ?? false,
      mailDomain: ctx.mailDomain ?? DEFAULT_MAIL_DOMAIN,
    },
    // A new tenant's clock (a sandbox's first time) is the real time, never the caller's test clock.
    () => new Date(),
  );
}
