import type { Kysely } from 'kysely';
import { newId } from '../db/ids.js';
import type { Database, MessageRow, WebhookEndpointRow } from '../db/schema.js';
import { findActiveEndpoints, insertDeliveries } from '../db/webhooks.js';

// Events a partner can subscribe to (API.md). They are written in the same transaction as the
// change that causes them: one delivery row per subscribed endpoint, sent later by the worker.

export const WEBHOOK_EVENT_TYPES = [
  'followup.sent',
  'followup.failed',
  'followup.skipped',
  'followup.due',
  'followup.awaiting_approval',
  'plan.completed',
  'plan.cancelled',
  'interview.ended',
  'reply.received',
  'reply.auto',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEvent {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/** `followup.failed` for a message that will not go: the same shape whether SMTP refused it or a bounce came back. */
export function followupFailedEvent(
  message: Pick<MessageRow, 'id' | 'step_id' | 'plan_id' | 'kind' | 'to_name' | 'to_address' | 'attempts'>,
  interviewId: string | undefined,
  failure: { failureClass: string; code: string; hardBounce: boolean; status?: string },
): WebhookEvent {
  return {
    type: 'followup.failed',
    data: {
      messageId: message.id,
      stepId: message.step_id,
      planId: message.plan_id,
      interviewId,
      kind: message.kind,
      recipient: { name: message.to_name, email: message.to_address },
      attempts: message.attempts,
      failureClass: failure.failureClass,
      code: failure.code,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      hardBounce: failure.hardBounce,
    },
  };
}

export function subscribes(endpoint: WebhookEndpointRow, type: WebhookEventType): boolean {
  return endpoint.events.length === 0 || endpoint.events.includes(type);
}

/**
 * Queues events for every active endpoint that wants them. Pass `endpoints` when emitting many
 * events for one tenant in a batch, to read them once.
 */
export async function enqueueWebhookEvents(
  trx: Kysely<Database>,
  tenantId: string,
  events: readonly WebhookEvent[],
  now: Date,
  endpoints?: WebhookEndpointRow[],
): Promise<void> {
  if (events.length === 0) return;
  const active = endpoints ?? (await findActiveEndpoints(trx, tenantId));
  const rows = [];
  for (const event of events) {
    const subscribed = active.filter((endpoint) => subscribes(endpoint, event.type));
    if (subscribed.length === 0) continue;
    const payload = JSON.stringify({ type: event.type, timestamp: now.toISOString(), data: spelledAsInGraphQL(event.data) });
    for (const endpoint of subscribed) {
      rows.push({
        tenant_id: tenantId,
        id: newId(),
        endpoint_id: endpoint.id,
        event_type: event.type,
        payload,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      });
    }
  }
  await insertDeliveries(trx, rows);
}

// Enum values travel as GraphQL spells them (THANK_YOU, EMAIL, PASS), so a partner compares a
// webhook's values with a query's without translating. The domain keeps its lower-case words.
const ENUM_KEYS = new Set(['kind', 'channel', 'outcome', 'status']);

function spelledAsInGraphQL(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return key !== undefined && ENUM_KEYS.has(key) ? value.toUpperCase() : value;
  if (Array.isArray(value)) return value.map((item) => spelledAsInGraphQL(item));
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const spelled: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) spelled[name] = spelledAsInGraphQL(inner, name);
  return spelled;
}
