import type { Kysely } from 'kysely';
import { insertAuditEvents } from '../db/audit-events.js';
import { claimEndedInterviews } from '../db/debrief.js';
import type { Database } from '../db/schema.js';
import { enqueueWebhookEvents, type WebhookEvent } from './webhook-events.js';

import { WORKER_ACTOR } from './step-evaluation.js';

/**
 * interview.ended, once per interview, when its end has passed: the moment a partner asks the
 * candidate for the debrief. Each batch marks its interviews and queues their events in one
 * transaction, so a crash announces neither or both, and a second worker skips locked rows.
 * A cancelled interview is marked but not announced. Returns how many were announced.
 */
export async function announceEndedInterviews(db: Kysely<Database>, now: Date, batchSize: number, signal?: AbortSignal): Promise<number> {
  let announced = 0;
  for (;;) {
    if (signal?.aborted) return announced;
    const claimed = await db.transaction().execute(async (trx) => {
      const rows = await claimEndedInterviews(trx, now, batchSize);
      announced += await announceClaimed(trx, rows, now);
      return rows.length;
    });
    if (claimed < batchSize) return announced;
  }
}

/**
 * The same for one sandbox, in the caller's transaction (an advance of its test clock, up to
 * `now`). Returns how many interviews it marked, cancelled ones included.
 */
export async function announceEndedSandboxInterviews(trx: Kysely<Database>, tenantId: string, now: Date, batchSize: number): Promise<number> {
  let marked = 0;
  for (;;) {
    const rows = await claimEndedInterviews(trx, now, batchSize, tenantId);
    await announceClaimed(trx, rows, now);
    marked += rows.length;
    if (rows.length < batchSize) return marked;
  }
}

async function announceClaimed(trx: Kysely<Database>, rows: Awaited<ReturnType<typeof claimEndedInterviews>>, now: Date): Promise<number> {
  let announced = 0;
  const byTenant = new Map<string, WebhookEvent[]>();
  for (const row of rows) {
    if (row.status === 'cancelled') continue;
    const events = byTenant.get(row.tenant_id) ?? [];
    events.push({
      type: 'interview.ended',
      data: { interviewId: row.id, candidateId: row.candidate_id, endedAt: new Date(row.ends_at).toISOString() },
    });
    byTenant.set(row.tenant_id, events);
  }
  for (const [tenantId, events] of byTenant) {
    await enqueueWebhookEvents(trx, tenantId, events, now);
    await insertAuditEvents(
      trx,
      tenantId,
      events.map((event) => ({ actor: WORKER_ACTOR, action: 'interview.ended', entityType: 'interview', entityId: String(event.data.interviewId) })),
    );
    announced += events.length;
  }
  return announced;
}
