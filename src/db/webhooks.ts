import { type Kysely, sql } from 'kysely';
import { ALL_BUCKETS, bucketOf, tenantBucket, workableTenant } from './fair-claims.js';
import type { TenantScope } from './tenant-scope.js';
import type { Database, WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from './schema.js';

export async function insertEndpoint(
  db: Kysely<Database>,
  row: { tenant_id: string; id: string; url: string; events: string; secret: string; created_at: Date; updated_at: Date },
): Promise<WebhookEndpointRow> {
  return db.insertInto('webhook_endpoints').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Endpoints that still exist (active or disabled), oldest first. */
export async function listEndpoints(db: Kysely<Database>, tenantId: string): Promise<WebhookEndpointRow[]> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('status', '!=', 'deleted')
    .orderBy('id')
    .execute();
}

export async function findEndpointsByIds(db: Kysely<Database>, tenantId: string, ids: readonly string[]): Promise<WebhookEndpointRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
}

export async function findEndpointForUpdate(db: Kysely<Database>, tenantId: string, id: string): Promise<WebhookEndpointRow | undefined> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '!=', 'deleted')
    .forUpdate()
    .executeTakeFirst();
}

export type EndpointChanges = Partial<Pick<WebhookEndpointRow, 'secret' | 'previous_secret' | 'previous_secret_expires_at' | 'status' | 'status_reason'>>;

export async function updateEndpoint(db: Kysely<Database>, tenantId: string, id: string, changes: EndpointChanges, now: Date): Promise<WebhookEndpointRow> {
  return db
    .updateTable('webhook_endpoints')
    .set({ ...changes, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Active endpoints of a tenant; the caller filters by event type. */
export async function findActiveEndpoints(db: Kysely<Database>, tenantId: string): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('status', '=', 'active').execute();
}

export async function insertDeliveries(
  db: Kysely<Database>,
  rows: Array<{ tenant_id: string; id: string; endpoint_id: string; event_type: string; payload: string; next_attempt_at: Date; created_at: Date; updated_at: Date }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('webhook_deliveries').values(rows).execute();
}

/**
 * Like messages: claim due deliveries with a lease, never twice at once. The live worker's claim
 * ('all') walks every tenant round-robin (see fair-claims.ts) by the wall clock; an advance of a
 * sandbox's test clock claims that tenant's own deliveries by its clock.
 */
export async function claimDueDeliveries(db: Kysely<Database>, now: Date, leaseUntil: Date, limit: number, scope: TenantScope = 'all'): Promise<WebhookDeliveryRow[]> {
  if (scope !== 'all') return claimTenantDeliveries(db, scope.tenantId, now, leaseUntil, limit);
  const result = await sql<WebhookDeliveryRow>`
    WITH due AS (
      SELECT d.tenant_id, d.id, d.next_attempt_at
      FROM ${ALL_BUCKETS}
      CROSS JOIN LATERAL (
        SELECT w.tenant_id, w.id, w.next_attempt_at FROM webhook_deliveries AS w
        WHERE ${tenantBucket('w')} = b.bucket AND w.status IN ('pending', 'delivering') AND w.next_attempt_at <= ${now} AND ${workableTenant('w', { sandboxes: true })}
        ORDER BY w.next_attempt_at
        LIMIT ${limit}
      ) AS d
    ), turns AS (
      SELECT tenant_id, id, next_attempt_at, row_number() OVER (PARTITION BY tenant_id ORDER BY next_attempt_at, id) AS turn
      FROM due
    ), claimed AS (
      SELECT w.tenant_id, w.id
      FROM turns
      JOIN webhook_deliveries AS w ON w.tenant_id = turns.tenant_id AND w.id = turns.id
      WHERE w.status IN ('pending', 'delivering') AND w.next_attempt_at <= ${now}
      ORDER BY turns.turn, turns.next_attempt_at, w.tenant_id
      LIMIT ${limit}
      FOR UPDATE OF w SKIP LOCKED
    )
    UPDATE webhook_deliveries AS d
    SET status = 'delivering', attempts = d.attempts + 1, next_attempt_at = ${leaseUntil}, updated_at = ${now}
    FROM claimed
    WHERE d.tenant_id = claimed.tenant_id AND d.id = claimed.id
    RETURNING d.*`.execute(db);
  return result.rows;
}

/** One tenant's due deliveries, by the time given (a sandbox's test clock). */
async function claimTenantDeliveries(db: Kysely<Database>, tenantId: string, now: Date, leaseUntil: Date, limit: number): Promise<WebhookDeliveryRow[]> {
  const result = await sql<WebhookDeliveryRow>`
    UPDATE webhook_deliveries AS d
    SET status = 'delivering', attempts = d.attempts + 1, next_attempt_at = ${leaseUntil}, updated_at = ${now}
    FROM (
      SELECT tenant_id, id FROM webhook_deliveries AS w
      WHERE ${tenantBucket('w')} = ${bucketOf(tenantId)} AND tenant_id = ${tenantId} AND status IN ('pending', 'delivering') AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ) AS claimed
    WHERE d.tenant_id = claimed.tenant_id AND d.id = claimed.id
    RETURNING d.*`.execute(db);
  return result.rows;
}

export type DeliveryChanges = Partial<
  Pick<WebhookDeliveryRow, 'status' | 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error' | 'last_duration_ms' | 'delivered_at'>
>;

/** Settles a claimed delivery only while it is still ours (status delivering). */
export async function settleClaimedDelivery(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
  changes: DeliveryChanges,
  now: Date,
): Promise<WebhookDeliveryRow | undefined> {
  return db
    .updateTable('webhook_deliveries')
    .set({ ...changes, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'delivering')
    .returningAll()
    .executeTakeFirst();
}

export async function findDeliveryForUpdate(db: Kysely<Database>, tenantId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateDelivery(db: Kysely<Database>, tenantId: string, id: string, changes: DeliveryChanges, now: Date): Promise<WebhookDeliveryRow> {
  return db
    .updateTable('webhook_deliveries')
    .set({ ...changes, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertAttempt(db: Kysely<Database>, row: WebhookAttemptRow): Promise<void> {
  await db.insertInto('webhook_attempts').values(row).execute();
}

export async function findAttemptsByDeliveryIds(db: Kysely<Database>, tenantId: string, deliveryIds: readonly string[]): Promise<WebhookAttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('delivery_id')
    .orderBy('id')
    .execute();
}

export interface DeliveryListFilter {
  endpointId?: string | undefined;
  statuses?: string[] | undefined;
  eventType?: string | undefined;
}

export async function listDeliveries(
  db: Kysely<Database>,
  tenantId: string,
  page: { limit: number; afterId: string | undefined },
  filter: DeliveryListFilter,
): Promise<WebhookDeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', tenantId);
  if (page.afterId) query = query.where('id', '>', page.afterId);
  if (filter.endpointId) query = query.where('endpoint_id', '=', filter.endpointId);
  if (filter.statuses?.length) query = query.where('status', 'in', filter.statuses);
  if (filter.eventType) query = query.where('event_type', '=', filter.eventType);
  return query.orderBy('id').limit(page.limit).execute();
}

/** A deleted endpoint's deliveries still waiting are dropped, with the reason. */
export async function abandonPendingDeliveries(db: Kysely<Database>, tenantId: string, endpointId: string, now: Date): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'dead', next_attempt_at: null, last_error: 'endpoint deleted', updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .execute();
}

/** Endpoints whose secret (or previous secret) is still stored plain, from before sealing. */
export async function findUnsealedEndpointSecrets(
  db: Kysely<Database>,
): Promise<Array<Pick<WebhookEndpointRow, 'tenant_id' | 'id' | 'secret' | 'previous_secret'>>> {
  return db
    .selectFrom('webhook_endpoints')
    .select(['tenant_id', 'id', 'secret', 'previous_secret'])
    .where((eb) => eb.or([eb('secret', 'not like', 'sealed:v1:%'), eb('previous_secret', 'not like', 'sealed:v1:%')]))
    .execute();
}

export async function updateEndpointSecrets(db: Kysely<Database>, tenantId: string, id: string, secrets: { secret: string; previous_secret: string | null }): Promise<void> {
  await db.updateTable('webhook_endpoints').set(secrets).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}
