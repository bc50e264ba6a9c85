import { listAuditEventsForEntity } from '../db/audit-events.js';
import { candidateOwnsEntity } from '../db/candidate-scope.js';
import { isId } from '../db/ids.js';
import type { AuditEventRow } from '../db/schema.js';
import { type Caller, requireScope, type ServiceContext } from './context.js';
import { notFound, ServiceError } from './errors.js';
import { type Page, type PageRequest, pageWindow, toPage } from './pagination.js';

export interface AuditEventView {
  id: string;
  at: Date;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  data: Record<string, unknown>;
}

/**
 * Every entity is born with an audit event, so an entity with none in this tenant does not
 * exist here: it answers NOT_FOUND, the same for a missing id and another tenant's.
 */
export async function listAuditEvents(ctx: ServiceContext, caller: Caller, entityId: string, request: PageRequest): Promise<Page<AuditEventView>> {
  requireScope(caller, 'followups:read');
  const window = pageWindow(request, 50);
  if (!isId(entityId)) throw notFound('entity', entityId);
  // API.md: a candidate token reads the trail of its own entities only; any other id (another
  // candidate's, a tenant-wide one, or none at all) is refused alike.
  if (caller.candidateId !== undefined && !(await candidateOwnsEntity(ctx.db, caller.tenantId, caller.candidateId, entityId))) {
    throw new ServiceError('FORBIDDEN', 'a candidate token can read the audit trail of its own candidate only');
  }
  const rows = await listAuditEventsForEntity(ctx.db, caller.tenantId, entityId, window);
  if (rows.length === 0 && !window.afterId) throw notFound('entity', entityId);
  return toPage(rows, window.size, toAuditEventView);
}

function toAuditEventView(row: AuditEventRow): AuditEventView {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    data: row.data,
  };
}
