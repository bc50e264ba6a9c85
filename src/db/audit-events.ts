import type { Kysely } from 'kysely';
import { newId } from './ids.js';
import type { AuditEventRow, Database } from './schema.js';

export interface NewAuditEvent {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  data?: Record<string, unknown>;
}

export async function insertAuditEvents(db: Kysely<Database>, tenantId: string, events: NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('audit_events')
    .values(
      events.map((event) => ({
        tenant_id: tenantId,
        id: newId(),
        actor: event.actor,
        action: event.action,
        entity_type: event.entityType,
        entity_id: event.entityId,
        data: JSON.stringify(event.data ?? {}),
      })),
    )
    .execute();
}

export async function listAuditEventsForEntity(
  db: Kysely<Database>,
  tenantId: string,
  entityId: string,
  page: { limit: number; afterId: string | undefined },
): Promise<AuditEventRow[]> {
  let query = db
    .selectFrom('audit_events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('entity_id', '=', entityId);
  if (page.afterId) query = query.where('id', '>', page.afterId);
  return query.orderBy('id').limit(page.limit).execute();
}
