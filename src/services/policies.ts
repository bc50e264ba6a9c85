import type { Kysely } from 'kysely';
import { insertAuditEvents } from '../db/audit-events.js';
import { findCurrentPolicy, insertPolicyVersion } from '../db/policies.js';
import type { Database } from '../db/schema.js';
import { DEFAULT_POLICY, parsePolicyDocument, type PolicyDocument, resolvePolicyPatch, type TemplateKey } from '../domain/policy-document.js';
import { templateSyntaxProblem } from '../domain/templates.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, conflict, ServiceError } from './errors.js';

export interface PolicyView {
  version: number;
  document: PolicyDocument;
  createdAt: Date | null;
  createdBy: string | null;
}

/** The tenant's current policy, completed with defaults for keys added since it was stored. */
export async function loadPolicy(db: Kysely<Database>, tenantId: string): Promise<PolicyView> {
  const row = await findCurrentPolicy(db, tenantId);
  if (!row) return { version: 0, document: DEFAULT_POLICY, createdAt: null, createdBy: null };
  const parsed = parsePolicyDocument(row.document);
  if (!parsed.ok) throw new ServiceError('INTERNAL', `stored policy version ${row.version} no longer validates at ${parsed.key}`);
  return { version: row.version, document: parsed.document, createdAt: row.created_at, createdBy: row.created_by };
}

export async function getPolicy(ctx: ServiceContext, caller: Caller): Promise<PolicyView> {
  if (!caller.scopes.has('policy:admin')) requireScope(caller, 'followups:read');
  requireTenantWide(caller, 'read the policy');
  return loadPolicy(ctx.db, caller.tenantId);
}

/**
 * JSON Merge Patch (RFC 7386) over the current document, validated whole, stored as the next
 * version. Two updates racing for the same version cannot both win: the loser gets CONFLICT.
 */
export async function updatePolicy(ctx: ServiceContext, caller: Caller, patch: unknown): Promise<PolicyView> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'change the policy');
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw badInput('document', 'must be a JSON object (a merge patch over the current policy)');
  }
  return ctx.db.transaction().execute(async (trx) => {
    const current = await loadPolicy(trx, caller.tenantId);
    const resolved = resolvePolicyPatch(current.document, patch);
    if (!resolved.ok) throw new ServiceError('BAD_USER_INPUT', resolved.message, resolved.key);
    for (const [key, template] of Object.entries(resolved.document.templates) as Array<[TemplateKey, { subject?: string; body?: string }]>) {
      for (const part of ['subject', 'body'] as const) {
        const problem = template[part] === undefined ? null : templateSyntaxProblem(template[part]!);
        if (problem) throw badInput(`templates.${key}.${part}`, problem);
      }
    }
    let stored;
    try {
      stored = await insertPolicyVersion(trx, {
        tenant_id: caller.tenantId,
        version: current.version + 1,
        document: resolved.document,
        created_by: caller.sub,
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw conflict('the policy was changed at the same time; read it again and retry');
      throw error;
    }
    await insertAuditEvents(trx, caller.tenantId, [
      {
        actor: caller.sub,
        action: 'policy.updated',
        entityType: 'policy',
        entityId: caller.tenantId,
        data: { version: stored.version, patch: patch as Record<string, unknown> },
      },
    ]);
    return { version: stored.version, document: resolved.document, createdAt: stored.created_at, createdBy: stored.created_by };
  });
}
