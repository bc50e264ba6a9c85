import { insertAuditEvents } from '../db/audit-events.js';
import { findCandidateForUpdate } from '../db/candidates.js';
import { deleteSuppressionsOf, erasePersonalRows, eraseMentions, findPersonalValues } from '../db/erasure.js';
import { findPlansByInterviewIds, lockPlans } from '../db/follow-up-plans.js';
import { isId } from '../db/ids.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { notFound } from './errors.js';
import { cancelPlanSteps } from './follow-up-plans.js';

// The right to erasure: one transaction cancels the candidate's plans (nothing more is sent)
// and removes their personal data, and that of the people of their interviews, everywhere it is
// stored: their rows, messages, replies, audit data, webhook payloads. Ids stay, so counts and
// foreign keys hold; afterwards the candidate's id answers NOT_FOUND.

export async function eraseCandidate(ctx: ServiceContext, caller: Caller, id: string): Promise<{ id: string; erasedAt: Date }> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'erase candidates');
  if (!isId(id)) throw notFound('candidate', id);
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const candidate = await findCandidateForUpdate(trx, caller.tenantId, id);
    if (!candidate) throw notFound('candidate', id);
    const personal = await findPersonalValues(trx, caller.tenantId, id);
    // Plans first, in the lock order every plan-changing use-case follows.
    const plans = await findPlansByInterviewIds(trx, caller.tenantId, personal.interviewIds);
    const locked = await lockPlans(trx, caller.tenantId, plans.map((plan) => plan.id), { skipLocked: false });
    for (const plan of locked) {
      if (plan.status === 'active' || plan.status === 'paused') await cancelPlanSteps(trx, caller.tenantId, caller.sub, plan, 'candidate_erased', now);
    }
    await erasePersonalRows(trx, caller.tenantId, id, personal.interviewIds, now);
    await deleteSuppressionsOf(trx, caller.tenantId, [candidate.email, candidate.phone].filter((value): value is string => !!value));
    const mentions = await eraseMentions(trx, caller.tenantId, personal.values);
    await insertAuditEvents(trx, caller.tenantId, [
      {
        actor: caller.sub,
        action: 'candidate.erased',
        entityType: 'candidate',
        entityId: id,
        data: { interviews: personal.interviewIds.length, plans: plans.length, auditEventsErased: mentions.auditEvents, webhookPayloadsErased: mentions.webhookDeliveries },
      },
    ]);
    return { id, erasedAt: now };
  });
}
