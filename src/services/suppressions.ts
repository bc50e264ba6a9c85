import { insertAuditEvents } from '../db/audit-events.js';
import { deleteSuppression, findSuppression, insertSuppression, listSuppressions, suppressionKey } from '../db/suppressions.js';
import { emailProblem, phoneProblem } from '../domain/validation.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, notFound, ServiceError } from './errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page, type PageRequest } from './pagination.js';

// The tenant's list of addresses never to write to (S6): hard bounces land here by themselves;
// partners add the people who opted out, and may lift an entry.

export interface SuppressionView {
  address: string;
  reason: 'hard_bounce' | 'opt_out' | 'manual';
  detail: string | null;
  createdAt: Date;
}

function checkedAddress(address: string): string {
  const isEmail = address.includes('@');
  const problem = isEmail ? emailProblem(address) : phoneProblem(address);
  if (problem) throw badInput('address', `${problem} (an email address or an E.164 phone number)`);
  return suppressionKey(address);
}

export async function suppressAddress(
  ctx: ServiceContext,
  caller: Caller,
  input: { address: string; reason?: string | null },
): Promise<SuppressionView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'manage suppressions');
  const address = checkedAddress(input.address);
  const reason = input.reason ?? 'opt_out';
  if (reason !== 'opt_out' && reason !== 'manual') throw badInput('reason', 'must be OPT_OUT or MANUAL: hard bounces are recorded by Afterview itself');
  return ctx.db.transaction().execute(async (trx) => {
    await insertSuppression(trx, { tenant_id: caller.tenantId, address, reason, detail: null });
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'suppression.added', entityType: 'suppression', entityId: caller.tenantId, data: { address, reason } },
    ]);
    return toView((await findSuppression(trx, caller.tenantId, address))!);
  });
}

export async function unsuppressAddress(ctx: ServiceContext, caller: Caller, rawAddress: string): Promise<SuppressionView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'manage suppressions');
  const address = checkedAddress(rawAddress);
  return ctx.db.transaction().execute(async (trx) => {
    const existing = await findSuppression(trx, caller.tenantId, address);
    if (!existing) throw notFound('suppressed address', address);
    await deleteSuppression(trx, caller.tenantId, address);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'suppression.removed', entityType: 'suppression', entityId: caller.tenantId, data: { address, reason: existing.reason } },
    ]);
    return toView(existing);
  });
}

export async function listSuppressionsPage(ctx: ServiceContext, caller: Caller, request: PageRequest): Promise<Page<SuppressionView>> {
  requireScope(caller, 'followups:read');
  requireTenantWide(caller, 'list suppressions');
  const size = request.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) throw new ServiceError('BAD_USER_INPUT', `first must be between 0 and ${MAX_PAGE_SIZE}`, 'first');
  const afterAddress = request.after ? Buffer.from(request.after, 'base64url').toString('utf8') : undefined;
  const rows = await listSuppressions(ctx.db, caller.tenantId, { limit: size + 1, afterAddress });
  const kept = rows.slice(0, size);
  const cursors = kept.map((row) => Buffer.from(row.address).toString('base64url'));
  return { items: kept.map(toView), cursors, hasNextPage: rows.length > size, endCursor: cursors.at(-1) ?? null };
}

function toView(row: { address: string; reason: string; detail: string | null; created_at: Date }): SuppressionView {
  return { address: row.address, reason: row.reason as SuppressionView['reason'], detail: row.detail, createdAt: row.created_at };
}
