import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { findTenantBySlug, makeSandbox } from '../db/tenants.js';
import { createTenant } from './tenants.js';
import { mintToken } from './tokens.js';

export const DEVELOPMENT_TENANT_SLUG = 'dev';

/**
 * For `npm start` without JWT_SECRET: a tenant to try the API with, and a token for it. It is a
 * sandbox, so its mail stays here and its clock can be advanced; a `dev` tenant of an older data
 * directory becomes one, its clock starting now.
 */
export async function ensureDevelopmentTenant(db: Kysely<Database>, secret: string, mailDomain: string) {
  const existing = await findTenantBySlug(db, DEVELOPMENT_TENANT_SLUG);
  if (existing && !existing.sandbox) await makeSandbox(db, existing.tenant_id, new Date());
  const tenantId = existing?.tenant_id ?? (await createTenant(db, { slug: DEVELOPMENT_TENANT_SLUG, name: 'Development', mailDomain, sandbox: true })).id;
  return { slug: DEVELOPMENT_TENANT_SLUG, tenantId, token: mintToken(secret, { tenantId, sub: 'developer' }) };
}
