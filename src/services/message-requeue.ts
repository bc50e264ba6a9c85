import { insertAuditEvents } from '../db/audit-events.js';
import { lockPlans, updateStep } from '../db/follow-up-plans.js';
import { isId } from '../db/ids.js';
import { findMessageForUpdate, findMessagesByIds, updateMessage } from '../db/messages.js';
import { findSuppression } from '../db/suppressions.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { conflict, notFound } from './errors.js';
import { settlePlans } from './follow-up-plans.js';
import { type MessageView, toMessageView } from './messages.js';
import { enqueueWebhookEvents } from './webhook-events.js';
import { signalWorkDue } from '../db/work-signals.js';

// Sending a dead message again, by hand: after a long relay outage, a misconfiguration fixed
// since, or a refusal the recipient's side has lifted. The message goes as it was written,
// under its own Message-ID, so a recipient who did get an earlier copy sees the same message.

/**
 * Queues a dead message to go now, with its attempts counted afresh. Its step waits for it
 * again, and a plan that had completed reopens. Refused (CONFLICT) unless the message is dead,
 * while its plan is paused or cancelled, and while its address is suppressed.
 */
export async function requeueMessage(ctx: ServiceContext, caller: Caller, id: string): Promise<MessageView> {
  requireScope(caller, 'followups:write');
  // An operator's repair after an outage, not something a candidate does for themselves.
  requireTenantWide(caller, 'requeue a message');
  if (!isId(id)) throw notFound('message', id);
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const [seen] = await findMessagesByIds(trx, caller.tenantId, [id]);
    if (!seen) throw notFound('message', id);
    // The plan's lock first, as every use-case that changes a plan's steps takes it.
    const [plan] = await lockPlans(trx, caller.tenantId, [seen.plan_id], { skipLocked: false });
    const message = (await findMessageForUpdate(trx, caller.tenantId, id))!;
    if (message.status !== 'dead') throw conflict(`message ${id} is ${message.status}; only a dead message can be requeued`);
    if (plan!.status === 'cancelled') throw conflict('the plan is cancelled');
    if (plan!.status === 'paused') throw conflict('the plan is paused; resume it before requeueing');
    if (message.to_address && (await findSuppression(trx, caller.tenantId, message.to_address))) {
      throw conflict('the address is suppressed; lift the suppression before requeueing');
    }
    const requeued = await updateMessage(trx, caller.tenantId, id, { status: 'queued', attempts: 0, next_attempt_at: now, sent_at: null }, now);
    await updateStep(trx, caller.tenantId, message.step_id, { status: 'queued', reason: null }, now);
    const settled = await settlePlans(trx, caller.tenantId, [plan!], caller.sub, now);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'message.requeued', entityType: 'message', entityId: id, data: { from: 'dead', attempts: message.attempts, messageIdHeader: message.message_id_header } },
      { actor: caller.sub, action: 'step.requeued', entityType: 'follow_up_step', entityId: message.step_id, data: { messageId: id } },
      ...settled.audit,
    ]);
    await enqueueWebhookEvents(trx, caller.tenantId, settled.events, now);
    await signalWorkDue(trx, 'mail');
    return toMessageView(requeued);
  });
}
