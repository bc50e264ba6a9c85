import type { Kysely } from 'kysely';
import { withoutInvisibleFormatting } from '../domain/display-name.js';
import { DEFAULT_POLICY } from '../domain/policy-document.js';
import { LIMITS, sendingAddressProblem, singleLineProblem } from '../domain/validation.js';
import { insertAuditEvents } from '../db/audit-events.js';
import { newId } from '../db/ids.js';
import { insertPolicyVersion } from '../db/policies.js';
import type { Database, TenantRow } from '../db/schema.js';
import { findTenantById, findTenantBySlug, insertTenant } from '../db/tenants.js';
import { setTenantDisabled } from '../db/token-access.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, conflict, notFound } from './errors.js';

export const DEFAULT_MAIL_DOMAIN = 'afterview.localhost';

export interface TenantView {
  id: string;
  slug: string;
  name: string;
  sendingAddress: string;
  disabledAt: Date | null;
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
  // The name is part of every From display name ("Ada Lovelace via Acme Jobs").
  const name = withoutInvisibleFormatting(input.name ?? input.slug).trim();
  const nameProblem = singleLineProblem(name, LIMITS.name);
  if (nameProblem) throw badInput('name', nameProblem);
  const sendingAddress = checkedSendingAddress(input);
  return db.transaction().execute(async (trx) => {
    if (await findTenantBySlug(trx, input.slug)) throw conflict(`a tenant with slug ${input.slug} already exists`);
    const row = await insertTenant(trx, {
      tenant_id: newId(),
      slug: input.slug,
      name,
      sending_address: sendingAddress,
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

/** The address given, or `<slug>@<mailDomain>`; either way one plain address. */
function checkedSendingAddress(input: { slug: string; sendingAddress?: string; mailDomain: string }): string {
  if (input.sendingAddress !== undefined) {
    const problem = sendingAddressProblem(input.sendingAddress);
    if (problem) throw badInput('sendingAddress', problem);
    return input.sendingAddress.trim();
  }
  const address = `${input.slug}@${input.mailDomain}`;
  const problem = sendingAddressProblem(address);
  if (problem) throw badInput('mailDomain', `does not make a valid sending address (${address.slice(0, 80)} ${problem})`);
  return address;
}

export async function getTenantBySlug(db: Kysely<Database>, slug: string): Promise<TenantView> {
  const row = await findTenantBySlug(db, slug);
  if (!row) throw notFound('tenant', slug);
  return toTenantView(row);
}

export async function tenantExists(db: Kysely<Database>, tenantId: string): Promise<boolean> {
  return (await findTenantById(db, tenantId)) !== undefined;
}

/**
 * An operator's switch (`npm run cli -- tenant disable <slug>`): a disabled tenant's tokens are
 * refused on every replica within seconds (their access caches), and the worker claims none of
 * its steps, messages or webhook deliveries until it is enabled again; they wait, nothing is lost.
 */
export async function setTenantEnabled(db: Kysely<Database>, slug: string, enabled: boolean, now: Date): Promise<TenantView> {
  return db.transaction().execute(async (trx) => {
    const row = await findTenantBySlug(trx, slug);
    if (!row) throw notFound('tenant', slug);
    if ((row.disabled_at === null) === enabled) return toTenantView(row);
    await setTenantDisabled(trx, row.tenant_id, enabled ? null : now);
    await insertAuditEvents(trx, row.tenant_id, [
      { actor: 'operator', action: enabled ? 'tenant.enabled' : 'tenant.disabled', entityType: 'tenant', entityId: row.tenant_id, data: {} },
    ]);
    return toTenantView({ ...row, disabled_at: enabled ? null : now });
  });
}

function toTenantView(row: TenantRow): TenantView {
  return {
    id: row.tenant_id,
    slug: row.slug,
    name: row.name,
    sendingAddress: row.sending_address,
    disabledAt: row.disabled_at,
    sandbox: row.sandbox,
    testClock: row.test_clock_at,
  };
}

// Operations over HTTP, for a running service whose embedded database no other process may
// open: the CLI calls these with an operator's token (the admin scope).

/** Operators only: a tenant by its slug, or null. */
export async function findTenantForOperator(ctx: ServiceContext, caller: Caller, slug: string): Promise<TenantView | null> {
  requireTenantWide(caller, 'manage tenants');
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
  requireTenantWide(caller, 'manage tenants');
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
