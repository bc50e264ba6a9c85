import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import { lockPlans, updateStepOutcomes } from '../db/follow-up-plans.js';
import { claimDueMessages, markMessageAccepted, type MessageSettlement, settleClaimedMessage, settleClaimedMessages } from '../db/messages.js';
import type { Database, MessageRow } from '../db/schema.js';
import { insertSuppression } from '../db/suppressions.js';
import type { TenantScope } from '../db/tenant-scope.js';
import { findActiveEndpoints } from '../db/webhooks.js';
import { errorForLog } from '../logger.js';
import type { Mailer, OutgoingMail, SendOutcome } from '../mail/mailer.js';
import { settlePlans } from './follow-up-plans.js';
import { WORKER_ACTOR } from './step-evaluation.js';
import { enqueueWebhookEvents, subscribes, type WebhookEvent } from './webhook-events.js';

// The outbox's sending side: claim queued messages with a lease, hand them to SMTP, and record
// each outcome (message, step, audit, webhook events) in a transaction. Outcomes that finish
// while another is being written are written together (group commit), so the database keeps up
// with the SMTP pool.
//
// Exactly once in effect: many messages travel at once, but only one at a time is handed over
// (its last line sent, after which the server may deliver it) before the previous one's
// acceptance is recorded, on its own and at once. A worker killed at any moment has at most one
// message the server took without our knowing, sent again after its lease runs out, with the
// same Message-ID. A message whose acceptance was recorded is never sent again; the next worker
// only finishes recording it.

/** Transient failures are retried this many times in all before the message is dead. */
export const MAX_SEND_ATTEMPTS = 8;
const BASE_BACKOFF_MS = 60_000;
const MAX_BACKOFF_MS = 60 * 60_000;
/** A configuration error (bad credentials, TLS) is not the message's fault: try again later, attempts untouched. */
const CONFIGURATION_RETRY_MS = 60_000;
/** At most this much of a lease is kept back for the server's answer to a handed-over message. */
const HANDOVER_LEASE_MARGIN_MS = 30_000;

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
  /**
   * Messages at once between being handed over (the server may have them) and their acceptance
   * being recorded: the most a crash can send twice. Default 1.
   */
  handoverWindow?: number;
  signal?: AbortSignal;
  random?: () => number;
  onOutcome?: (outcome: SendOutcome) => void;
  /** Whose messages: the live tenants' unless told otherwise. */
  scope?: TenantScope;
}

type Counted = 'sent' | 'retried' | 'dead';

export interface DispatchResult {
  claimed: number;
  sent: number;
  retried: number;
  dead: number;
  released: number;
}

/**
 * Sends every message that may go now: claims them a batch at a time, sends them concurrently
 * and records each result. The next batch is claimed while the last sends of the current one
 * are under way, so the SMTP connections never wait for a claim; it ends when a claim comes back
 * short (nothing more is due) or the signal stops it.
 */
export async function dispatchDueMessages(db: Kysely<Database>, options: DispatchOptions): Promise<DispatchResult> {
  const result: DispatchResult = { claimed: 0, sent: 0, retried: 0, dead: 0, released: 0 };
  const recorder = createOutcomeRecorder(db, options);
  const handovers = createHandoverLine(options.handoverWindow ?? 1);
  // A message is handed over only with this much of its lease left, time enough for the server's
  // answer and our record before another worker could claim it.
  const leaseMargin = Math.min(options.leaseMs / 2, HANDOVER_LEASE_MARGIN_MS);
  // The messages this dispatcher holds, by id: a claim that takes one of them again (its lease
  // ran out while it waited here) renews the lease of the copy already held.
  const held = new Map<string, MessageRow>();
  // Outcomes waiting for their group; the first failure to record one is the dispatch's failure.
  const unrecorded = new Set<Promise<void>>();
  const recordFailures: unknown[] = [];
  const queue: MessageRow[] = [];
  let claiming: Promise<void> | null = null;
  let exhausted = false;
  const claimMore = (): Promise<void> =>
    (claiming ??= (async () => {
      try {
        const now = options.clock();
        const claimed = await claimDueMessages(db, now, new Date(now.getTime() + options.leaseMs), options.batchSize, options.scope);
        result.claimed += claimed.length;
        for (const message of claimed) {
          const copy = held.get(message.id);
          if (copy) copy.next_attempt_at = message.next_attempt_at;
          else {
            held.set(message.id, message);
            queue.push(message);
          }
        }
        if (claimed.length < options.batchSize) exhausted = true;
      } finally {
        claiming = null;
      }
    })());
  const nextMessage = async (): Promise<MessageRow | undefined> => {
    for (;;) {
      if (queue.length <= options.concurrency && !exhausted && !options.signal?.aborted) void claimMore().catch(() => {});
      const message = queue.shift();
      if (message) return message;
      if (!claiming) return undefined;
      await claiming;
    }
  };
  /** Gives the lease back (shutting down, or too little of it left to hand the message over). */
  const release = async (message: MessageRow) => {
    const at = options.clock();
    await settleClaimedMessage(db, message.tenant_id, message.id, message.next_attempt_at!, { status: 'retry', attempts: message.attempts - 1, next_attempt_at: at }, at);
    result.released += 1;
  };
  /**
   * Sends one message; its acceptance is recorded before the next message may be handed over.
   * Null: it was not handed over (too little of its lease left, or shutting down).
   */
  const send = async (message: MessageRow): Promise<SendOutcome | null> => {
    let turn: HandoverTurn | undefined;
    let notHandedOver = false;
    const outcome = await options.mailer.send(outgoingMailOf(message), {
      handover: async () => {
        turn = handovers.take(options.signal);
        try {
          await turn.ready;
        } catch (error) {
          // Shutting down while in line: the message is not ended, and its lease is given back.
          if (options.signal?.aborted) notHandedOver = true;
          throw error;
        }
        if (message.next_attempt_at!.getTime() - options.clock().getTime() < leaseMargin) {
          notHandedOver = true;
          throw new Error('the lease has too little time left to hand the message over');
        }
      },
    });
    try {
      if (outcome.status === 'sent') {
        message.accepted_at = options.clock();
        // A claim of our own may renew the lease meanwhile; the mark follows it.
        let lease: Date;
        do lease = message.next_attempt_at!;
        while (!(await markMessageAccepted(db, message.tenant_id, message.id, lease, message.accepted_at)) && message.next_attempt_at !== lease);
      }
    } catch (error) {
      // Unrecorded, this acceptance is the one a crash may repeat: no other message may join it.
      handovers.stop(error);
      options.log.error({ messageId: message.id, ...errorForLog(error) }, 'could not record that the server took a message; sends stop');
    } finally {
      turn?.release();
    }
    return notHandedOver ? null : outcome;
  };
  const lane = async () => {
    // A failure to record stops every lane: what is still queued here waits for its lease to run out.
    for (let message = await nextMessage(); message && !handovers.stopped && recordFailures.length === 0; message = await nextMessage()) {
      let outcome: SendOutcome | null;
      if (message.accepted_at) {
        // Taken by the server before its sender died: only the record is left to finish.
        outcome = { status: 'sent', response: 'accepted before a restart' };
      } else if (options.signal?.aborted) {
        outcome = null;
      } else {
        outcome = await send(message);
        if (outcome) options.onOutcome?.(outcome);
      }
      if (!outcome) {
        await release(message);
        held.delete(message.id);
        continue;
      }
      // The lane goes on while the outcome waits for its group, unless too many already wait.
      const recorded: Promise<void> = recorder.record(message, outcome).then(
        (counted) => {
          if (counted) result[counted] += 1;
        },
        (error: unknown) => {
          recordFailures.push(error);
        },
      );
      unrecorded.add(recorded);
      void recorded.finally(() => {
        unrecorded.delete(recorded);
        held.delete(message.id);
      });
      if (unrecorded.size >= options.concurrency) await recorded;
    }
  };
  await claimMore();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, queue.length) }, lane));
  await Promise.all(unrecorded);
  if (recordFailures.length > 0) throw recordFailures[0];
  return result;
}

interface HandoverTurn {
  /** Resolves when the message may be handed over; rejects once sends have stopped, or on `signal`. */
  ready: Promise<void>;
  /** Its acceptance is recorded, or it failed: the next message in line may go. */
  release(): void;
}

/** The line messages wait in to be handed over, `width` at a time. */
function createHandoverLine(width: number) {
  let free = width;
  const waiting: Array<{ grant: () => void }> = [];
  let stopped: unknown = null;
  const passOn = () => {
    const next = waiting.shift();
    if (next) next.grant();
    else free += 1;
  };
  return {
    take(signal?: AbortSignal): HandoverTurn {
      let holding = false;
      const ready = new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', leave);
          holding = true;
          // Once an acceptance could not be recorded, no message is ended: the server drops them.
          if (stopped) reject(stopped);
          else resolve();
        };
        const leave = () => {
          const index = waiting.indexOf(entry);
          if (index >= 0) waiting.splice(index, 1);
          reject(new Error('stopped while waiting to hand the message over'));
        };
        const entry = { grant };
        if (free > 0) {
          free -= 1;
          return grant();
        }
        waiting.push(entry);
        signal?.addEventListener('abort', leave, { once: true });
      });
      ready.catch(() => {});
      return {
        ready,
        release: () => {
          if (!holding) return;
          holding = false;
          passOn();
        },
      };
    },
    stop(error: unknown): void {
      stopped ??= error;
    },
    get stopped(): boolean {
      return stopped !== null;
    },
  };
}

interface PendingOutcome {
  message: MessageRow;
  outcome: SendOutcome;
  resolve: (counted: Counted | null) => void;
  reject: (error: unknown) => void;
}

/** Group commit: outcomes that arrive while a write runs are written together by the next one. */
function createOutcomeRecorder(db: Kysely<Database>, options: DispatchOptions) {
  let queue: PendingOutcome[] = [];
  let writing = false;
  const drain = async () => {
    writing = true;
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      try {
        const counted = await writeOutcomes(db, group, options);
        group.forEach((item, index) => item.resolve(counted[index]!));
      } catch (error) {
        group.forEach((item) => item.reject(error));
      }
    }
    writing = false;
  };
  return {
    record(message: MessageRow, outcome: SendOutcome): Promise<Counted | null> {
      return new Promise((resolve, reject) => {
        queue.push({ message, outcome, resolve, reject });
        if (!writing) void drain();
      });
    },
  };
}

interface Settlement {
  counted: Counted;
  message: MessageSettlement;
  step: { status: 'sent' | 'failed'; reason: string | null } | null;
  audit: NewAuditEvent;
}

/** What one outcome means for its message and step (no I/O). */
function settlementOf(message: MessageRow, outcome: SendOutcome, now: Date, random: () => number): Settlement {
  const base = { id: message.id, lease: message.next_attempt_at!, attempts: message.attempts, sent_at: null, last_error: null, next_attempt_at: null };
  if (outcome.status === 'sent') {
    return {
      counted: 'sent',
      message: { ...base, status: 'sent', sent_at: message.accepted_at ?? now },
      step: { status: 'sent', reason: null },
      audit: { actor: WORKER_ACTOR, action: 'message.sent', entityType: 'message', entityId: message.id, data: { attempts: message.attempts, messageIdHeader: message.message_id_header } },
    };
  }
  const failure = { attempts: message.attempts, failureClass: outcome.failureClass, code: outcome.code };
  if (outcome.failureClass === 'configuration') {
    const nextAt = new Date(now.getTime() + CONFIGURATION_RETRY_MS);
    return {
      counted: 'retried',
      message: { ...base, status: 'retry', attempts: message.attempts - 1, next_attempt_at: nextAt, last_error: outcome.detail },
      step: null,
      audit: { actor: WORKER_ACTOR, action: 'message.retry', entityType: 'message', entityId: message.id, data: { ...failure, nextAttemptAt: nextAt.toISOString() } },
    };
  }
  if (outcome.failureClass === 'transient' && message.attempts < MAX_SEND_ATTEMPTS) {
    const nextAt = new Date(now.getTime() + sendBackoffMs(message.attempts, random));
    return {
      counted: 'retried',
      message: { ...base, status: 'retry', next_attempt_at: nextAt, last_error: outcome.detail },
      step: null,
      audit: { actor: WORKER_ACTOR, action: 'message.retry', entityType: 'message', entityId: message.id, data: { ...failure, nextAttemptAt: nextAt.toISOString() } },
    };
  }
  return {
    counted: 'dead',
    message: { ...base, status: 'dead', last_error: outcome.detail },
    step: { status: 'failed', reason: outcome.failureClass === 'permanent' ? 'permanent_failure' : 'attempts_exhausted' },
    audit: { actor: WORKER_ACTOR, action: 'message.dead', entityType: 'message', entityId: message.id, data: failure },
  };
}

/** Writes a group of outcomes: one transaction, a few statements per tenant. */
async function writeOutcomes(db: Kysely<Database>, group: PendingOutcome[], options: DispatchOptions): Promise<Array<Counted | null>> {
  const now = options.clock();
  const random = options.random ?? Math.random;
  const settlements = group.map(({ message, outcome }) => settlementOf(message, outcome, now, random));
  for (const { message, outcome } of group) {
    if (outcome.status === 'failed' && outcome.failureClass === 'configuration') {
      options.log.error({ messageId: message.id, code: outcome.code }, 'mail configuration error: check SMTP_URL credentials and TLS');
    }
  }
  const counted: Array<Counted | null> = group.map(() => null);
  await db.transaction().execute((trx) => writeSettlements(trx, group, settlements, counted, now));
  return counted;
}

/**
 * Sandbox mail is kept, not sent: claimed messages are recorded as sent, each at `sentAt(message)`
 * (default `now`), in the caller's transaction.
 */
export async function recordKeptMessages(trx: Kysely<Database>, messages: MessageRow[], now: Date, sentAt: (message: MessageRow) => Date = () => now): Promise<number> {
  for (const message of messages) message.accepted_at = sentAt(message);
  const group = messages.map((message) => ({ message, outcome: { status: 'sent', response: 'kept (sandbox)' } as SendOutcome }));
  const settlements = group.map(({ message, outcome }) => settlementOf(message, outcome, now, Math.random));
  const counted: Array<Counted | null> = group.map(() => null);
  await writeSettlements(trx, group, settlements, counted, now);
  return counted.filter((value) => value === 'sent').length;
}

async function writeSettlements(
  trx: Kysely<Database>,
  group: Array<Pick<PendingOutcome, 'message' | 'outcome'>>,
  settlements: Settlement[],
  counted: Array<Counted | null>,
  now: Date,
): Promise<void> {
  {
    const byTenant = new Map<string, number[]>();
    group.forEach(({ message }, index) => byTenant.set(message.tenant_id, [...(byTenant.get(message.tenant_id) ?? []), index]));
    for (const [tenantId, indexes] of byTenant) {
      // The plans' locks first, as every use-case that changes a plan's steps takes them.
      const plans = await lockPlans(trx, tenantId, [...new Set(indexes.map((i) => group[i]!.message.plan_id))], { skipLocked: false });
      const endpoints = await findActiveEndpoints(trx, tenantId);
      const interviewOf = new Map(plans.map((plan) => [plan.id, plan.interview_id]));
      const settled = await settleClaimedMessages(trx, tenantId, indexes.map((i) => settlements[i]!.message), now);
      const done = indexes.filter((i) => settled.has(group[i]!.message.id));
      for (const i of done) counted[i] = settlements[i]!.counted;

      const finished = done.filter((i) => settlements[i]!.step !== null);
      const steps = await updateStepOutcomes(
        trx,
        tenantId,
        finished.map((i) => ({ id: group[i]!.message.step_id, ...settlements[i]!.step!, sent_at: settlements[i]!.message.sent_at })),
        now,
        { withDecisions: endpoints.some((endpoint) => subscribes(endpoint, 'followup.sent')) },
      );
      const stepById = new Map(steps.map((step) => [step.id, step]));
      const audit: NewAuditEvent[] = done.map((i) => settlements[i]!.audit);
      const events: WebhookEvent[] = [];
      for (const i of finished) {
        const { message, outcome } = group[i]!;
        const step = stepById.get(message.step_id);
        const interviewId = interviewOf.get(message.plan_id);
        audit.push({ actor: WORKER_ACTOR, action: `step.${settlements[i]!.step!.status}`, entityType: 'follow_up_step', entityId: message.step_id, data: { messageId: message.id, reason: settlements[i]!.step!.reason } });
        if (outcome.status === 'sent') {
          events.push({
            type: 'followup.sent',
            data: {
              messageId: message.id,
              planId: message.plan_id,
              stepId: message.step_id,
              interviewId,
              kind: message.kind,
              channel: message.channel,
              recipient: { name: message.to_name, email: message.to_address },
              messageIdHeader: message.message_id_header,
              sentAt: (message.accepted_at ?? now).toISOString(),
              late: step?.late ?? false,
              decisions: step?.decisions ?? [],
            },
          });
          continue;
        }
        events.push({
          type: 'followup.failed',
          data: {
            messageId: message.id,
            stepId: message.step_id,
            planId: message.plan_id,
            interviewId,
            kind: message.kind,
            recipient: { name: message.to_name, email: message.to_address },
            attempts: message.attempts,
            failureClass: outcome.failureClass,
            code: outcome.code,
            hardBounce: outcome.hardBounce,
          },
        });
        if (outcome.hardBounce && message.to_address) {
          // A hard bounce means the address does not take mail: never write to it again (S6).
          await insertSuppression(trx, { tenant_id: tenantId, address: message.to_address, reason: 'hard_bounce', detail: outcome.code });
          audit.push({ actor: WORKER_ACTOR, action: 'suppression.added', entityType: 'message', entityId: message.id, data: { reason: 'hard_bounce', code: outcome.code } });
        }
      }

      // A plan whose last waiting step just finished is complete.
      const touched = new Set(finished.map((i) => group[i]!.message.plan_id));
      const planOutcome = await settlePlans(trx, tenantId, plans.filter((plan) => touched.has(plan.id)), WORKER_ACTOR, now);
      audit.push(...planOutcome.audit);
      events.push(...planOutcome.events);
      await insertAuditEvents(trx, tenantId, audit);
      await enqueueWebhookEvents(trx, tenantId, events, now, endpoints);
    }
  }
}
