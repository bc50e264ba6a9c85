import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import { lockPlans, updateStepOutcomes } from '../db/follow-up-plans.js';
import {
  claimDueMessages,
  markMessageAccepted,
  type MessageSettlement,
  renewMessageLeases,
  settleClaimedMessage,
  settleClaimedMessages,
} from '../db/messages.js';
import type { Database, MessageRow } from '../db/schema.js';
import { insertSuppression } from '../db/suppressions.js';
import { findActiveEndpoints } from '../db/webhooks.js';
import { errorForLog } from '../logger.js';
import { bounceAddressFor, type InboundAddressing, replyAddressFor } from '../inbound/reply-token.js';
import type { Mailer, OutgoingMail, SendOutcome } from '../mail/mailer.js';
import { createRelayBreaker, isRelayOutage, type RelayBreaker } from '../mail/relay-breaker.js';
import { settlePlans } from './follow-up-plans.js';
import type { SendRateLimit } from './send-rate.js';
import type { DkimKeys } from './sending-domains.js';
import { WORKER_ACTOR } from './step-evaluation.js';
import { enqueueWebhookEvents, followupFailedEvent, subscribes, type WebhookEvent } from './webhook-events.js';

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
/** A claim takes what this process hands over in about this long (at most a quarter of the lease). */
const CLAIM_HORIZON_MS = 5_000;
/** A message failed by an outage without a breaker probe time waits this long. */
const OUTAGE_RETRY_MS = 1_000;

/** Exponential backoff with jitter: 1, 2, 4 … minutes (capped at an hour), each between half and all of it. */
export function sendBackoffMs(attempts: number, random: () => number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * The mail for a message row. With inbound addressing, replies go to reply+<token>@ and bounces
 * to bounce+<token>@ the inbound domain (read back by src/inbound), the Reply-To still showing
 * the candidate's name; automatic delivery and read receipts are asked to stay away, while
 * out-of-office answers (which carry a return date) still come.
 */
export function outgoingMailOf(message: MessageRow, addressing?: InboundAddressing): OutgoingMail {
  const tracked = addressing !== undefined;
  return {
    messageId: message.message_id_header,
    from: { name: message.from_name, address: message.from_address },
    replyTo: { name: message.reply_to_name, address: tracked ? replyAddressFor(addressing, message.id) : message.reply_to_address },
    ...(tracked ? { envelopeFrom: bounceAddressFor(addressing, message.id) } : {}),
    to: { name: message.to_name, address: message.to_address ?? '' },
    subject: message.subject,
    text: message.body,
    inReplyTo: message.in_reply_to,
    references: message.references_header,
    headers: tracked ? { 'X-Afterview-Message': message.id, 'X-Auto-Response-Suppress': 'DR, RN, NRN' } : { 'X-Afterview-Message': message.id },
  };
}

/**
 * The mail with its sender's DKIM key, when the tenant configured one for the From domain. A key
 * that cannot be read (ENCRYPTION_KEY no longer holds it) holds the mail back as a configuration
 * problem rather than sending it unsigned, which a domain with a DMARC policy would see rejected.
 */
export async function withSignature(mail: OutgoingMail, tenantId: string, keys: DkimKeys | undefined): Promise<{ mail: OutgoingMail } | { failed: SendOutcome }> {
  if (!keys) return { mail };
  try {
    const dkim = await keys.forSender(tenantId, mail.from.address);
    return { mail: dkim ? { ...mail, dkim } : mail };
  } catch {
    return { failed: { status: 'failed', failureClass: 'configuration', code: 'EDKIMKEY', detail: 'the sending domain\'s DKIM key could not be read', hardBounce: false } };
  }
}

export interface DispatchOptions {
  mailer: Mailer;
  clock: () => Date;
  log: Logger;
  /** The most messages one claim takes (claims are sized to what the process sends in a few seconds, up to this). */
  batchSize: number;
  leaseMs: number;
  /** Sends in flight at once (the SMTP pool's connections are the real limit). */
  concurrency: number;
  /**
   * Messages at once between being handed over (the server may have them) and their acceptance
   * being recorded: the most a crash can send twice. Default 1.
   */
  handoverWindow?: number;
  /** How often the leases of the messages held are renewed. Default a quarter of the lease. */
  heartbeatMs?: number;
  /** The worker's relay breaker, kept from one dispatch to the next; without one, each dispatch has its own. */
  breaker?: RelayBreaker;
  signal?: AbortSignal;
  random?: () => number;
  onOutcome?: (outcome: SendOutcome) => void;
  /** Reply and bounce addresses at INBOUND_DOMAIN (absent: replies go to the candidate directly). */
  addressing?: InboundAddressing;
  /** SMTP_MAX_PER_SECOND, shared by every worker process: a message waits for its place before it is handed over. */
  sendRate?: SendRateLimit | undefined;
  /** The tenants' DKIM keys (absent: nothing is signed). */
  dkimKeys?: DkimKeys;
}

type Counted = 'sent' | 'retried' | 'dead';

export interface DispatchResult {
  claimed: number;
  sent: number;
  retried: number;
  dead: number;
  released: number;
  /** The relay is away (the breaker is open): nothing more goes before this, its next probe. */
  pausedUntil: Date | null;
}

/**
 * Sends every message that may go now: claims them a batch at a time, sends them concurrently
 * and records each result. The next batch is claimed while the last sends of the current one
 * are under way, so the SMTP connections never wait for a claim; it ends when a claim comes back
 * short (nothing more is due), the relay is away, or the signal stops it.
 *
 * Crash recovery: leases are short, and a heartbeat renews the lease of every message held here
 * while the dispatch runs. Claims are sized to what this process sends in a few seconds, so a
 * process killed at any moment leaves few messages behind, free again within one lease.
 */
export async function dispatchDueMessages(db: Kysely<Database>, options: DispatchOptions): Promise<DispatchResult> {
  const result: DispatchResult = { claimed: 0, sent: 0, retried: 0, dead: 0, released: 0, pausedUntil: null };
  const breaker = options.breaker ?? createRelayBreaker();
  const leases = createLeaseGuard();
  const recorder = createOutcomeRecorder(db, options, breaker, leases);
  const handovers = createHandoverLine(options.handoverWindow ?? 1);
  // A message is handed over only with this much of its lease left, time enough for the server's
  // answer and our record before another worker could claim it.
  const leaseMargin = Math.min(options.leaseMs / 2, HANDOVER_LEASE_MARGIN_MS);
  // The messages this dispatcher holds, by id: the heartbeat renews their leases, and a claim
  // that takes one of them again (its lease ran out while it waited here) renews the copy held.
  const held = new Map<string, MessageRow>();
  // Outcomes waiting for their group; the first failure to record one is the dispatch's failure.
  const unrecorded = new Set<Promise<void>>();
  const recordFailures: unknown[] = [];
  const queue: MessageRow[] = [];
  let claiming: Promise<void> | null = null;
  let exhausted = false;

  // What this process holds is sized to what it sends: a message for each lane, and ahead of
  // them what it hands over in CLAIM_HORIZON_MS at the rate seen so far. A process killed at any
  // moment leaves only that behind, and it is sent again within seconds of its lease running out.
  const started = performance.now();
  let handedOver = 0;
  const horizonMs = Math.min(CLAIM_HORIZON_MS, options.leaseMs / 4);
  const probeDue = () => breaker.state === 'open' && breaker.probeAt !== null && breaker.probeAt.getTime() <= options.clock().getTime();
  const claimSize = (): number => {
    // The relay is away: one message at a time, as the probe, when one is due.
    if (breaker.state !== 'closed') return probeDue() && held.size === 0 ? 1 : 0;
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0.2 ? handedOver / seconds : 0;
    const ahead = rate > 0 ? Math.ceil((rate * horizonMs) / 1000) : options.concurrency;
    return Math.max(0, Math.min(options.batchSize, options.concurrency + ahead - held.size));
  };
  /** No message is taken from the queue while stopping, or while the relay is away and no probe is due. */
  const blocked = () => options.signal?.aborted === true || (breaker.state !== 'closed' && !probeDue());

  const lanes = new Set<Promise<void>>();
  const spawnLanes = () => {
    const wanted = Math.min(options.concurrency, queue.length);
    while (lanes.size < wanted) {
      const running: Promise<void> = lane().finally(() => lanes.delete(running));
      lanes.add(running);
    }
  };
  const claimMore = (): Promise<void> => {
    if (claiming) return claiming;
    const size = claimSize();
    if (size === 0) return Promise.resolve();
    claiming = (async () => {
      try {
        const now = options.clock();
        const claimed = await claimDueMessages(db, now, new Date(now.getTime() + options.leaseMs), size);
        result.claimed += claimed.length;
        for (const message of claimed) {
          const copy = held.get(message.id);
          if (copy) copy.next_attempt_at = message.next_attempt_at;
          else {
            held.set(message.id, message);
            queue.push(message);
          }
        }
        if (claimed.length < size) exhausted = true;
      } finally {
        claiming = null;
      }
      spawnLanes();
    })();
    return claiming;
  };
  const nextMessage = async (): Promise<MessageRow | undefined> => {
    for (;;) {
      if (blocked()) return undefined;
      if (!exhausted) void claimMore().catch(() => {});
      const message = queue.shift();
      if (message) return message;
      if (claiming) {
        await claiming;
        continue;
      }
      if (exhausted || unrecorded.size === 0) return undefined;
      // As much is held as may be: the next claim waits for an outcome to be recorded.
      await Promise.race(unrecorded);
    }
  };

  // The heartbeat: every lease held here is renewed, and the new lease end becomes the token the
  // holder writes with. Renewals take the lease guard alone, so no write runs with a lease that
  // is being replaced.
  let renewal: Promise<void> | null = null;
  const renewHeld = () =>
    (renewal ??= leases
      .exclusive(async () => {
        const mine = [...held.values()];
        if (mine.length === 0) return;
        const now = options.clock();
        const until = new Date(now.getTime() + options.leaseMs);
        const renewed = await renewMessageLeases(db, mine.map((m) => ({ tenantId: m.tenant_id, id: m.id, lease: m.next_attempt_at! })), until, now);
        for (const message of mine) if (renewed.has(message.id)) message.next_attempt_at = until;
      })
      .catch((error: unknown) => {
        // The leases run on; a message whose lease runs low is not handed over (see send).
        options.log.warn(errorForLog(error), 'could not renew message leases');
      })
      .finally(() => {
        renewal = null;
      }));
  const heartbeat = setInterval(() => void renewHeld(), options.heartbeatMs ?? options.leaseMs / 4);
  heartbeat.unref();

  /** Gives the lease back without spending an attempt (shutting down, the relay away, or too little lease left). */
  const release = async (message: MessageRow) => {
    await leases.shared(async () => {
      const at = options.clock();
      await settleClaimedMessage(db, message.tenant_id, message.id, message.next_attempt_at!, { status: 'retry', attempts: message.attempts - 1, next_attempt_at: at }, at);
    });
    result.released += 1;
  };
  /**
   * Sends one message; its acceptance is recorded before the next message may be handed over.
   * Null: it was not handed over (too little of its lease left, or shutting down).
   */
  const send = async (message: MessageRow): Promise<SendOutcome | null> => {
    let turn: HandoverTurn | undefined;
    let notHandedOver = false;
    const signed = await withSignature(outgoingMailOf(message, options.addressing), message.tenant_id, options.dkimKeys);
    if ('failed' in signed) return signed.failed;
    const outcome = await options.mailer.send(signed.mail, {
      handover: async () => {
        turn = handovers.take(options.signal);
        try {
          await turn.ready;
        } catch (error) {
          // Shutting down while in line: the message is not ended, and its lease is given back.
          if (options.signal?.aborted) notHandedOver = true;
          throw error;
        }
        if (options.sendRate) {
          // Throttled, not failed: the message waits here, in line, its lease renewed by the
          // heartbeat; no attempt is spent. Stopping while it waits gives it back.
          try {
            await options.sendRate.take(options.signal);
          } catch (error) {
            notHandedOver = true;
            throw error;
          }
        }
        if (message.next_attempt_at!.getTime() - options.clock().getTime() < leaseMargin) {
          notHandedOver = true;
          throw new Error('the lease has too little time left to hand the message over');
        }
        handedOver += 1;
      },
    });
    try {
      if (outcome.status === 'sent') {
        message.accepted_at = options.clock();
        await leases.shared(async () => {
          // A claim of our own may renew the lease meanwhile; the mark follows it.
          let lease: Date;
          do lease = message.next_attempt_at!;
          while (!(await markMessageAccepted(db, message.tenant_id, message.id, lease, message.accepted_at!)) && message.next_attempt_at !== lease);
        });
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
  /** Sends a message through the breaker; null when it did not go (see send), or the relay is away. */
  const sendThroughBreaker = async (message: MessageRow): Promise<SendOutcome | null> => {
    const admission = breaker.admit(options.clock());
    if (admission === 'wait') return null;
    const outcome = await send(message);
    if (!outcome) {
      if (admission === 'probe') breaker.abandonProbe();
      return null;
    }
    options.onOutcome?.(outcome);
    if (outcome.status === 'failed' && isRelayOutage(outcome)) {
      if (breaker.state === 'closed' || admission === 'probe') options.log.warn({ code: outcome.code }, 'the mail relay is not reachable; sending pauses');
      breaker.outage(options.clock());
    } else {
      if (admission === 'probe') options.log.info('the mail relay answers again; sending resumes');
      breaker.reachable();
    }
    return outcome;
  };
  async function lane(): Promise<void> {
    // A failure to record stops every lane: what is still queued here waits for its lease to run out.
    for (let message = await nextMessage(); message && !handovers.stopped && recordFailures.length === 0; message = await nextMessage()) {
      let outcome: SendOutcome | null;
      if (message.accepted_at) {
        // Taken by the server before its sender died: only the record is left to finish.
        outcome = { status: 'sent', response: 'accepted before a restart' };
      } else if (options.signal?.aborted) {
        outcome = null;
      } else {
        outcome = await sendThroughBreaker(message);
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
  }
  try {
    await claimMore();
    while (lanes.size > 0) await Promise.all(lanes);
    await Promise.all(unrecorded);
    // What is still queued (stopping, or the relay went away) goes back at once, in one statement.
    const left = queue.splice(0).filter((message) => !message.accepted_at);
    if (left.length > 0 && !handovers.stopped) {
      await leases.shared(async () => {
        const at = options.clock();
        const settled = await releaseClaimedMessages(db, left, at);
        result.released += settled;
      });
    }
    for (const message of left) held.delete(message.id);
  } finally {
    clearInterval(heartbeat);
    await renewal;
  }
  if (recordFailures.length > 0) throw recordFailures[0];
  if (breaker.state !== 'closed') result.pausedUntil = breaker.probeAt ?? options.clock();
  return result;
}

/** Gives many leases back in one statement per tenant; no attempt is spent. */
async function releaseClaimedMessages(db: Kysely<Database>, messages: MessageRow[], at: Date): Promise<number> {
  const byTenant = new Map<string, MessageRow[]>();
  for (const message of messages) byTenant.set(message.tenant_id, [...(byTenant.get(message.tenant_id) ?? []), message]);
  let released = 0;
  for (const [tenantId, rows] of byTenant) {
    const settled = await settleClaimedMessages(
      db,
      tenantId,
      rows.map((m) => ({ id: m.id, lease: m.next_attempt_at!, status: 'retry', attempts: m.attempts - 1, next_attempt_at: at, last_error: m.last_error, sent_at: null })),
      at,
    );
    released += settled.size;
  }
  return released;
}

/**
 * Writes take the lease a message carries as their token; the heartbeat replaces that token.
 * Writes share the guard, a renewal holds it alone, and a waiting renewal goes before new
 * writes (they come without pause under load).
 */
function createLeaseGuard() {
  let writes = 0;
  let renewing = false;
  let renewalsWaiting = 0;
  let wakers: Array<() => void> = [];
  const wakeAll = () => {
    const woken = wakers;
    wakers = [];
    for (const wake of woken) wake();
  };
  const wait = () => new Promise<void>((resolve) => wakers.push(resolve));
  return {
    async shared<T>(write: () => Promise<T>): Promise<T> {
      while (renewing || renewalsWaiting > 0) await wait();
      writes += 1;
      try {
        return await write();
      } finally {
        writes -= 1;
        if (writes === 0) wakeAll();
      }
    },
    async exclusive<T>(renew: () => Promise<T>): Promise<T> {
      renewalsWaiting += 1;
      while (renewing || writes > 0) await wait();
      renewalsWaiting -= 1;
      renewing = true;
      try {
        return await renew();
      } finally {
        renewing = false;
        wakeAll();
      }
    },
  };
}

type LeaseGuard = ReturnType<typeof createLeaseGuard>;

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
function createOutcomeRecorder(db: Kysely<Database>, options: DispatchOptions, breaker: RelayBreaker, leases: LeaseGuard) {
  let queue: PendingOutcome[] = [];
  let writing = false;
  const drain = async () => {
    writing = true;
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      try {
        const counted = await leases.shared(() => writeOutcomes(db, group, options, breaker));
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
function settlementOf(message: MessageRow, outcome: SendOutcome, now: Date, random: () => number, outageRetryAt: Date): Settlement {
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
  if (isRelayOutage(outcome)) {
    // The relay was away: nothing is known about the message, so no attempt is spent on it.
    return {
      counted: 'retried',
      message: { ...base, status: 'retry', attempts: message.attempts - 1, next_attempt_at: outageRetryAt, last_error: outcome.detail },
      step: null,
      audit: { actor: WORKER_ACTOR, action: 'message.retry', entityType: 'message', entityId: message.id, data: { ...failure, attempts: message.attempts - 1, relayOutage: true, nextAttemptAt: outageRetryAt.toISOString() } },
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
async function writeOutcomes(db: Kysely<Database>, group: PendingOutcome[], options: DispatchOptions, breaker: RelayBreaker): Promise<Array<Counted | null>> {
  const now = options.clock();
  const random = options.random ?? Math.random;
  // A message the relay could not take because it was away waits for the breaker's next probe.
  const outageRetryAt = breaker.probeAt ?? new Date(now.getTime() + OUTAGE_RETRY_MS);
  const settlements = group.map(({ message, outcome }) => settlementOf(message, outcome, now, random, outageRetryAt));
  for (const { message, outcome } of group) {
    if (outcome.status === 'failed' && outcome.failureClass === 'configuration') {
      options.log.error({ messageId: message.id, code: outcome.code }, 'mail configuration error: check SMTP_URL credentials and TLS');
    }
  }
  const counted: Array<Counted | null> = group.map(() => null);
  await db.transaction().execute(async (trx) => {
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
        events.push(followupFailedEvent(message, interviewId, { failureClass: outcome.failureClass, code: outcome.code, hardBounce: outcome.hardBounce }));
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
  });
  return counted;
}
