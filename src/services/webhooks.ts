import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { insertAuditEvents } from '../db/audit-events.js';
import { isId, newId } from '../db/ids.js';
import type { Database, WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from '../db/schema.js';
import type { TenantScope } from '../db/tenant-scope.js';
import {
  abandonPendingDeliveries,
  claimDueDeliveries,
  findAttemptsByDeliveryIds,
  findDeliveryForUpdate,
  findEndpointForUpdate,
  findEndpointsByIds,
  insertAttempt,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  settleClaimedDelivery,
  updateDelivery,
  updateEndpoint,
} from '../db/webhooks.js';
import { postWebhook, type WebhookAttemptResult } from '../webhooks/http-delivery.js';
import { nextWebhookAttemptAt } from '../webhooks/retry-schedule.js';
import { generateWebhookSecret, signWebhook } from '../webhooks/signing.js';
import { checkWebhookUrl } from '../webhooks/target-guard.js';
import { isSealed, openSecret, sealSecret } from '../security/secret-box.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, conflict, notFound } from './errors.js';
import { type Page, type PageRequest, pageWindow, toPage } from './pagination.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.js';
import { signalWorkDue } from '../db/work-signals.js';

// Partners' webhook endpoints, and the sending side of the delivery outbox.

/** After a rotation the old secret keeps signing, beside the new one, this long. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;
/**
 * Twice the 15 s request timeout, so a live attempt never loses its lease; the worker claims one
 * delivery per lane at a time, so a crashed worker's deliveries are free again within this.
 */
const DELIVERY_LEASE_MS = 30_000;

export interface WebhookSettings {
  /** WEBHOOK_ALLOW_PRIVATE: loopback and private targets are allowed (tests, on-premise). */
  allowPrivate: boolean;
  /** In production only https targets. */
  requireHttps: boolean;
}

export interface WebhookEndpointView {
  id: string;
  url: string;
  events: string[];
  status: 'active' | 'disabled' | 'deleted';
  statusReason: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookAttemptView {
  at: Date;
  outcome: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

export interface WebhookDeliveryView {
  id: string;
  endpointId: string;
  eventType: string;
  payload: unknown;
  status: 'pending' | 'delivering' | 'delivered' | 'dead';
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

function parseEvents(events: readonly string[] | null | undefined): WebhookEventType[] {
  const list = [...new Set(events ?? [])];
  list.forEach((event, index) => {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event)) {
      throw badInput(`events.${index}`, `is not an event type; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    }
  });
  return list as WebhookEventType[];
}

/** Registers an endpoint; its signing secret is returned this once and never shown again. */
export async function registerWebhookEndpoint(
  ctx: ServiceContext,
  caller: Caller,
  input: { url: string; events?: readonly string[] | null },
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'manage webhooks');
  const check = checkWebhookUrl(input.url, ctx.webhooks);
  if (!check.ok) throw badInput('url', check.reason);
  const events = parseEvents(input.events);
  const now = ctx.clock();
  const secret = generateWebhookSecret();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertEndpoint(trx, {
      tenant_id: caller.tenantId,
      id: newId(),
      url: check.url.toString(),
      events: JSON.stringify(events),
      secret: sealSecret(secret),
      created_at: now,
      updated_at: now,
    });
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'webhook_endpoint.registered', entityType: 'webhook_endpoint', entityId: row.id, data: { url: row.url, events } },
    ]);
    return { endpoint: toEndpointView(row), secret };
  });
}

export async function listWebhookEndpoints(ctx: ServiceContext, caller: Caller): Promise<WebhookEndpointView[]> {
  requireScope(caller, 'followups:read');
  requireTenantWide(caller, 'list webhooks');
  return (await listEndpoints(ctx.db, caller.tenantId)).map(toEndpointView);
}

async function lockEndpoint(trx: Kysely<Database>, caller: Caller, id: string): Promise<WebhookEndpointRow> {
  const endpoint = isId(id) ? await findEndpointForUpdate(trx, caller.tenantId, id) : undefined;
  if (!endpoint) throw notFound('webhook endpoint', id);
  return endpoint;
}

/**
 * A new secret, shown once. For 24 hours deliveries carry signatures with both the old and the
 * new secret, so the partner can switch over without dropping any.
 */
export async function rotateWebhookSecret(ctx: ServiceContext, caller: Caller, id: string): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'manage webhooks');
  const now = ctx.clock();
  const secret = generateWebhookSecret();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await lockEndpoint(trx, caller, id);
    const row = await updateEndpoint(
      trx,
      caller.tenantId,
      current.id,
      { secret: sealSecret(secret), previous_secret: current.secret, previous_secret_expires_at: new Date(now.getTime() + SECRET_OVERLAP_MS) },
      now,
    );
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'webhook_endpoint.secret_rotated', entityType: 'webhook_endpoint', entityId: row.id, data: { previousSecretExpiresAt: row.previous_secret_expires_at?.toISOString() } },
    ]);
    return { endpoint: toEndpointView(row), secret };
  });
}

/** Deletes an endpoint: nothing more is sent to it; what was still waiting is dropped. */
export async function deleteWebhookEndpoint(ctx: ServiceContext, caller: Caller, id: string): Promise<WebhookEndpointView> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'manage webhooks');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await lockEndpoint(trx, caller, id);
    const row = await updateEndpoint(trx, caller.tenantId, current.id, { status: 'deleted', status_reason: 'deleted by the partner' }, now);
    await abandonPendingDeliveries(trx, caller.tenantId, current.id, now);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'webhook_endpoint.deleted', entityType: 'webhook_endpoint', entityId: row.id, data: {} },
    ]);
    return toEndpointView(row);
  });
}

/** Sends a dead or delivered delivery again, under the same webhook-id, with a fresh retry schedule. */
export async function redeliverWebhook(ctx: ServiceContext, caller: Caller, deliveryId: string): Promise<WebhookDeliveryView> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'manage webhooks');
  if (!isId(deliveryId)) throw notFound('webhook delivery', deliveryId);
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const delivery = await findDeliveryForUpdate(trx, caller.tenantId, deliveryId);
    if (!delivery) throw notFound('webhook delivery', deliveryId);
    if (delivery.status !== 'dead' && delivery.status !== 'delivered') throw conflict(`the delivery is ${delivery.status}; it is already on its way`);
    const [endpoint] = await findEndpointsByIds(trx, caller.tenantId, [delivery.endpoint_id]);
    if (endpoint?.status !== 'active') throw conflict(`its endpoint is ${endpoint?.status ?? 'gone'}`);
    const row = await updateDelivery(trx, caller.tenantId, delivery.id, { status: 'pending', attempts: 0, next_attempt_at: now }, now);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'webhook_delivery.redelivered', entityType: 'webhook_delivery', entityId: delivery.id, data: { from: delivery.status } },
    ]);
    await signalWorkDue(trx, 'webhooks');
    return toDeliveryView(row);
  });
}

export async function listWebhookDeliveries(
  ctx: ServiceContext,
  caller: Caller,
  request: PageRequest,
  filter: { endpointId?: string | null; status?: readonly string[] | null; eventType?: string | null } = {},
): Promise<Page<WebhookDeliveryView>> {
  requireScope(caller, 'followups:read');
  requireTenantWide(caller, 'list webhook deliveries');
  const window = pageWindow(request);
  if (filter.endpointId != null && !isId(filter.endpointId)) return toPage([], window.size, toDeliveryView);
  const rows = await listDeliveries(ctx.db, caller.tenantId, window, {
    endpointId: filter.endpointId ?? undefined,
    statuses: filter.status?.map((status) => status.toLowerCase()),
    eventType: filter.eventType ?? undefined,
  });
  return toPage(rows, window.size, toDeliveryView);
}

/** Loader batch: the attempt log of each delivery, oldest first. */
export async function getAttemptsByDeliveryIds(ctx: ServiceContext, caller: Caller, ids: readonly string[]): Promise<WebhookAttemptView[][]> {
  const rows = await findAttemptsByDeliveryIds(ctx.db, caller.tenantId, ids.filter(isId));
  const grouped = new Map<string, WebhookAttemptView[]>();
  for (const row of rows) grouped.set(row.delivery_id, [...(grouped.get(row.delivery_id) ?? []), toAttemptView(row)]);
  return ids.map((id) => grouped.get(id) ?? []);
}

/** Loader batch: endpoints by id (deleted ones included: a delivery still names its endpoint). */
export async function getEndpointsByIds(ctx: ServiceContext, caller: Caller, ids: readonly string[]): Promise<Array<WebhookEndpointView | null>> {
  const rows = await findEndpointsByIds(ctx.db, caller.tenantId, ids.filter(isId));
  const byId = new Map(rows.map((row) => [row.id, toEndpointView(row)]));
  return ids.map((id) => byId.get(id) ?? null);
}

// ------------------------------------------------------------------------------------------
// The worker's side.

export interface WebhookDispatchOptions extends WebhookSettings {
  clock: () => Date;
  log: Logger;
  batchSize: number;
  concurrency: number;
  signal?: AbortSignal;
  random?: () => number;
  timeoutMs?: number;
  onResult?: (result: WebhookAttemptResult) => void;
  /** Whose deliveries: every tenant's by its own clock unless told otherwise. */
  scope?: TenantScope;
}

/** The secrets that sign now: the current one, and the previous one during the overlap (stored sealed). */
function signingSecrets(endpoint: WebhookEndpointRow, now: Date): string[] {
  const overlapping = endpoint.previous_secret && endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at > now;
  return (overlapping ? [endpoint.secret, endpoint.previous_secret!] : [endpoint.secret]).map(storedSecret);
}

/** Sealed since migration 0007; a plain one can only be a row the start-up sealing has not reached yet. */
function storedSecret(value: string): string {
  return isSealed(value) ? openSecret(value) : value;
}

/** One batch: claim due deliveries, post them concurrently, record each attempt. */
export async function dispatchDueWebhooks(db: Kysely<Database>, options: WebhookDispatchOptions): Promise<{ claimed: number; delivered: number; failed: number }> {
  const now = options.clock();
  const claimed = await claimDueDeliveries(db, now, new Date(now.getTime() + DELIVERY_LEASE_MS), options.batchSize, options.scope);
  const result = { claimed: claimed.length, delivered: 0, failed: 0 };
  const endpoints = new Map<string, WebhookEndpointRow>();
  for (const [tenantId, ids] of groupEndpointIds(claimed)) {
    for (const endpoint of await findEndpointsByIds(db, tenantId, ids)) endpoints.set(endpoint.id, endpoint);
  }
  let next = 0;
  const lane = async () => {
    while (next < claimed.length) {
      const delivery = claimed[next++]!;
      if (options.signal?.aborted) {
        await settleClaimedDelivery(db, delivery.tenant_id, delivery.id, { status: 'pending', attempts: delivery.attempts - 1, next_attempt_at: options.clock() }, options.clock());
        continue;
      }
      const attempt = await attemptDelivery(delivery, endpoints.get(delivery.endpoint_id), options);
      options.onResult?.(attempt);
      if (attempt.outcome === 'delivered') result.delivered += 1;
      else result.failed += 1;
      await recordAttempt(db, delivery, endpoints.get(delivery.endpoint_id), attempt, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, claimed.length) }, lane));
  return result;
}

function groupEndpointIds(deliveries: WebhookDeliveryRow[]): Map<string, string[]> {
  const groups = new Map<string, Set<string>>();
  for (const delivery of deliveries) groups.set(delivery.tenant_id, (groups.get(delivery.tenant_id) ?? new Set()).add(delivery.endpoint_id));
  return new Map([...groups].map(([tenantId, ids]) => [tenantId, [...ids]]));
}

async function attemptDelivery(delivery: WebhookDeliveryRow, endpoint: WebhookEndpointRow | undefined, options: WebhookDispatchOptions): Promise<WebhookAttemptResult> {
  if (!endpoint || endpoint.status !== 'active') {
    return { outcome: 'refused', statusCode: null, durationMs: 0, retryAfterMs: null, error: `endpoint ${endpoint?.status ?? 'missing'}`, responseExcerpt: null };
  }
  const body = JSON.stringify(delivery.payload);
  // The timestamp is when it really goes out (receivers check it against their own clock).
  const headers = signWebhook({ id: delivery.id, timestamp: new Date(), body, secrets: signingSecrets(endpoint, options.clock()) });
  return postWebhook({
    url: endpoint.url,
    body,
    headers,
    allowPrivate: options.allowPrivate,
    requireHttps: options.requireHttps,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

async function recordAttempt(
  db: Kysely<Database>,
  delivery: WebhookDeliveryRow,
  endpoint: WebhookEndpointRow | undefined,
  attempt: WebhookAttemptResult,
  options: WebhookDispatchOptions,
): Promise<void> {
  const now = options.clock();
  const tenantId = delivery.tenant_id;
  await db.transaction().execute(async (trx) => {
    const base = { last_status_code: attempt.statusCode, last_error: attempt.error, last_duration_ms: Math.round(attempt.durationMs) };
    let changes;
    if (attempt.outcome === 'delivered') {
      changes = { ...base, status: 'delivered', delivered_at: now, next_attempt_at: null };
    } else if (attempt.outcome === 'gone' || attempt.outcome === 'refused') {
      changes = { ...base, status: 'dead', next_attempt_at: null };
    } else {
      const nextAt = nextWebhookAttemptAt({ attemptsMade: delivery.attempts, now, retryAfterMs: attempt.retryAfterMs, random: options.random ?? Math.random });
      changes = nextAt ? { ...base, status: 'pending', next_attempt_at: nextAt } : { ...base, status: 'dead', next_attempt_at: null };
    }
    const settled = await settleClaimedDelivery(trx, tenantId, delivery.id, changes, now);
    if (!settled) return;
    await insertAttempt(trx, {
      tenant_id: tenantId,
      id: newId(),
      delivery_id: delivery.id,
      attempted_at: now,
      outcome: attempt.outcome,
      status_code: attempt.statusCode,
      duration_ms: Math.round(attempt.durationMs),
      error: attempt.error,
    });
    if (attempt.outcome === 'gone' && endpoint && endpoint.status === 'active') {
      // 410 Gone: the partner says this endpoint is no more. Stop sending to it.
      await updateEndpoint(trx, tenantId, endpoint.id, { status: 'disabled', status_reason: 'the endpoint answered 410 Gone' }, now);
      await insertAuditEvents(trx, tenantId, [
        { actor: 'worker', action: 'webhook_endpoint.disabled', entityType: 'webhook_endpoint', entityId: endpoint.id, data: { deliveryId: delivery.id, statusCode: 410 } },
      ]);
      options.log.warn({ endpointId: endpoint.id }, 'webhook endpoint disabled: it answered 410 Gone');
    }
  });
}

function toEndpointView(row: WebhookEndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    status: row.status as WebhookEndpointView['status'],
    statusReason: row.status_reason,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDeliveryView(row: WebhookDeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventType: row.event_type,
    payload: row.payload,
    status: row.status as WebhookDeliveryView['status'],
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastDurationMs: row.last_duration_ms,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

function toAttemptView(row: WebhookAttemptRow): WebhookAttemptView {
  return { at: row.attempted_at, outcome: row.outcome, statusCode: row.status_code, durationMs: row.duration_ms, error: row.error };
}
