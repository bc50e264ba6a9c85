import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import { findStepsByIds, lockPlans, updateStep } from '../db/follow-up-plans.js';
import { claimDueMessages, settleClaimedMessage, type MessageChanges } from '../db/messages.js';
import type { Database, MessageRow } from '../db/schema.js';
import { insertSuppression } from '../db/suppressions.js';
import type { Mailer, OutgoingMail, SendOutcome } from '../mail/mailer.js';
import { settlePlanStatus } from './follow-up-plans.js';
import { WORKER_ACTOR } from './step-evaluation.js';
import { enqueueWebhookEvents, type WebhookEvent } from './webhook-events.js';

// The outbox's sending side: claim queued messages with a lease, hand them to SMTP, and record
// each outcome (message, step, audit, webhook events) in one transaction.

/** Transient failures are retried this many times in all before the message is dead. */
export const MAX_SEND_ATTEMPTS = 8;
const BASE_BACKOFF_MS = 60_000;
const MAX_BACKOFF_MS = 60 * 60_000;
/** A configuration error (bad credentials, TLS) is not the message's fault: try again later, attempts untouched. */
const CONFIGURATION_RETRY_MS = 60_000;

/** Exponential backoff with jitter: 1, 2, 4 … minutes (capped at an hour), each between half and all of it. */
export function sendBackoffMs(attempts: number, random: () => number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function outgoingMailOf(message: MessageRow): OutgoingMail {
  return {
    messageId: message.message_id_header,
    from: { name: message.from_name, address: message.from_address },
    replyTo: { name: message.reply_to_name, address: message.reply_to_address },
    to: { name: message.to_name, address: message.to_address ?? '' },
    subject: message.subject,
    text: message.body,
    inReplyTo: message.in_reply_to,
    references: message.references_header,
    headers: { 'X-Afterview-Message': message.id },
  };
}

export interface DispatchOptions {
  mailer: Mailer;
  clock: () => Date;
  log: Logger;
  batchSize: number;
  leaseMs: number;
  /** Sends in flight at once (the SMTP pool's connections are the real limit). */
  concurrency: number;
  signal?: AbortSignal;
  random?: () => number;
  onOutcome?: (outcome: SendOutcome) => void;
}

export interface DispatchResult {
  claimed: number;
  sent: number;
  retried: number;
  dead: number;
  released: number;
}

/** One batch: claim, send concurrently, record each result. */
export async function dispatchDueMessages(db: Kysely<Database>, options: DispatchOptions): Promise<DispatchResult> {
  const now = options.clock();
  const claimed = await claimDueMessages(db, now, new Date(now.getTime() + options.leaseMs), options.batchSize);
  const result: DispatchResult = { claimed: claimed.length, sent: 0, retried: 0, dead: 0, released: 0 };
  let next = 0;
  const lane = async () => {
    while (next < claimed.length) {
      const message = claimed[next++]!;
      if (options.signal?.aborted) {
        // Shutting down: give the lease back rather than leave it to run out.
        await releaseClaim(db, message, options.clock());
        result.released += 1;
        continue;
      }
      const outcome = await options.mailer.send(outgoingMailOf(message));
      options.onOutcome?.(outcome);
      const recorded = await recordSendOutcome(db, message, outcome, options);
      if (recorded) result[recorded] += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, claimed.length) }, lane));
  return result;
}

async function releaseClaim(db: Kysely<Database>, message: MessageRow, now: Date): Promise<void> {
  await settleClaimedMessage(db, message.tenant_id, message.id, { status: 'retry', attempts: message.attempts - 1, next_attempt_at: now }, now);
}

function failedEvent(message: MessageRow, planInterviewId: string, outcome: Extract<SendOutcome, { status: 'failed' }>): WebhookEvent {
  return {
    type: 'followup.failed',
    data: {
      messageId: message.id,
      stepId: message.step_id,
      planId: message.plan_id,
      interviewId: planInterviewId,
      kind: message.kind,
      recipient: { name: message.to_name, email: message.to_address },
      attempts: message.attempts,
      failureClass: outcome.failureClass,
      code: outcome.code,
      hardBounce: outcome.hardBounce,
    },
  };
}

/**
 * Writes one send's result. Only a message still leased by us is changed: if the lease ran out
 * and another worker took it over, this late result is dropped (that worker records its own).
 */
async function recordSendOutcome(
  db: Kysely<Database>,
  message: MessageRow,
  outcome: SendOutcome,
  options: DispatchOptions,
): Promise<keyof Omit<DispatchResult, 'claimed'> | null> {
  const now = options.clock();
  const tenantId = message.tenant_id;
  const random = options.random ?? Math.random;
  return db.transaction().execute(async (trx) => {
    const audit: NewAuditEvent[] = [];
    const events: WebhookEvent[] = [];
    let counted: keyof Omit<DispatchResult, 'claimed'>;
    let changes: MessageChanges;
    let stepChange: { status: 'sent' | 'failed'; reason: string | null } | null = null;

    if (outcome.status === 'sent') {
      changes = { status: 'sent', sent_at: now, next_attempt_at: null, last_error: null };
      stepChange = { status: 'sent', reason: null };
      counted = 'sent';
    } else if (outcome.failureClass === 'configuration') {
      // Not the message's fault: it keeps its attempts and waits for the operator to fix things.
      options.log.error({ messageId: message.id, code: outcome.code }, 'mail configuration error: check SMTP_URL credentials and TLS');
      changes = { status: 'retry', attempts: message.attempts - 1, next_attempt_at: new Date(now.getTime() + CONFIGURATION_RETRY_MS), last_error: outcome.detail };
      counted = 'retried';
    } else if (outcome.failureClass === 'transient' && message.attempts < MAX_SEND_ATTEMPTS) {
      changes = { status: 'retry', next_attempt_at: new Date(now.getTime() + sendBackoffMs(message.attempts, random)), last_error: outcome.detail };
      counted = 'retried';
    } else {
      changes = { status: 'dead', next_attempt_at: null, last_error: outcome.detail };
      stepChange = { status: 'failed', reason: outcome.failureClass === 'permanent' ? 'permanent_failure' : 'attempts_exhausted' };
      counted = 'dead';
    }

    // The plan's lock first, as every use-case that changes a plan's steps takes it.
    const [plan] = await lockPlans(trx, tenantId, [message.plan_id], { skipLocked: false });
    const settled = await settleClaimedMessage(trx, tenantId, message.id, changes, now);
    if (!settled) return null;
    audit.push({
      actor: WORKER_ACTOR,
      action: outcome.status === 'sent' ? 'message.sent' : `message.${changes.status}`,
      entityType: 'message',
      entityId: message.id,
      data:
        outcome.status === 'sent'
          ? { attempts: settled.attempts, messageIdHeader: settled.message_id_header }
          : { attempts: settled.attempts, failureClass: outcome.failureClass, code: outcome.code, nextAttemptAt: settled.next_attempt_at?.toISOString() ?? null },
    });

    if (stepChange) {
      const [step] = await findStepsByIds(trx, tenantId, [message.step_id]);
      await updateStep(trx, tenantId, message.step_id, { status: stepChange.status, reason: stepChange.reason, sent_at: stepChange.status === 'sent' ? now : null }, now);
      audit.push({ actor: WORKER_ACTOR, action: `step.${stepChange.status}`, entityType: 'follow_up_step', entityId: message.step_id, data: { messageId: message.id, reason: stepChange.reason } });
      if (outcome.status === 'sent') {
        events.push({
          type: 'followup.sent',
          data: {
            messageId: message.id,
            planId: message.plan_id,
            stepId: message.step_id,
            interviewId: plan!.interview_id,
            kind: message.kind,
            channel: message.channel,
            recipient: { name: message.to_name, email: message.to_address },
            messageIdHeader: message.message_id_header,
            sentAt: now.toISOString(),
            late: step!.late,
            decisions: step!.decisions,
          },
        });
      } else {
        events.push(failedEvent(message, plan!.interview_id, outcome));
        if (outcome.hardBounce && message.to_address) {
          // A hard bounce means the address does not take mail: never write to it again (S6).
          await insertSuppression(trx, { tenant_id: tenantId, address: message.to_address, reason: 'hard_bounce', detail: outcome.code });
          audit.push({ actor: WORKER_ACTOR, action: 'suppression.added', entityType: 'message', entityId: message.id, data: { reason: 'hard_bounce', code: outcome.code } });
        }
      }
      const planSettled = await settlePlanStatus(trx, tenantId, plan!, WORKER_ACTOR, now);
      audit.push(...planSettled.audit);
      if (planSettled.completed) events.push({ type: 'plan.completed', data: { planId: plan!.id, interviewId: plan!.interview_id } });
    }
    await insertAuditEvents(trx, tenantId, audit);
    await enqueueWebhookEvents(trx, tenantId, events, now);
    return counted;
  });
}
