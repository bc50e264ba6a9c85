import path from 'node:path';
import type { Kysely } from 'kysely';
import { type Logger, pino } from 'pino';
import { insertAuditEvents } from '../db/audit-events.js';
import type { Database, MessageRow, ReplyForwardRow } from '../db/schema.js';
import { findTestClock, lockTenant, setTestClock } from '../db/tenants.js';
import { claimSandboxMessages, claimSandboxSteps, keepSandboxForwards, nextSandboxDueAt } from '../db/test-clock.js';
import { createMailer, type OutgoingMail } from '../mail/mailer.js';
import { sharedCannedLetters } from './canned-letters.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, conflict, ServiceError } from './errors.js';
import { INBOUND_ACTOR } from './inbound-mail.js';
import { announceEndedSandboxInterviews } from './interview-endings.js';
import { outgoingMailOf, recordKeptMessages } from './message-dispatch.js';
import { loadTenantFacts } from './plan-context.js';
import { forwardMailOf } from './reply-forwards.js';
import { evaluateClaimedSteps, type SharedBatchFacts } from './step-evaluation.js';
import { dispatchDueWebhooks } from './webhooks.js';

// Sandboxes and the test clock. A sandbox tenant's "now" is its test clock, stored with the
// tenant and frozen between advances; every use-case reads it through ctx.clock, which is
// resolved per tenant in tenant-clock.ts. Advancing the clock runs the tenant's
// due work as the worker would have, tick by tick, up to the new time: the live worker never
// touches a sandbox's steps or messages (their due times are in the sandbox's time).

export const MAX_ADVANCE_DAYS = 400;
const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * An advance runs the worker in rounds of at most this much sandbox time: each step of a round
 * is evaluated, and its message sent, at its own due time (in due order, so a plan's later steps
 * see its earlier ones), while the round's bookkeeping (audit times, webhook timestamps, plans'
 * updated times) carries the round's end, as if the worker had run at the end of the round.
 * Rounds make a year of a thousand interviews a few hundred statements, not a tick per minute.
 */
export const SANDBOX_ROUND_MS = 60 * 60_000;
const BATCH_SIZE = 500;
/** A claimed message's lease inside an advance; it is settled in the same transaction. */
const LEASE_MS = 60_000;

function requireSandbox(sandbox: boolean | undefined): void {
  if (!sandbox) throw new ServiceError('FORBIDDEN', 'only a sandbox tenant has a test clock; this tenant is live');
}

export async function getTestClock(ctx: ServiceContext, caller: Caller): Promise<Date> {
  requireScope(caller, 'followups:read');
  requireTenantWide(caller, 'read the test clock');
  const clock = await findTestClock(ctx.db, caller.tenantId);
  requireSandbox(clock?.sandbox);
  return clock!.test_clock_at!;
}

export interface AdvanceResult {
  now: Date;
  stepsEvaluated: number;
  messagesSent: number;
}

export interface AdvanceOptions {
  log?: Logger;
  /** Steps or messages per statement (default 500). */
  batchSize?: number;
}

/** What an advance does in one transaction, and what it hands to the steps after the commit. */
interface AdvanceWork {
  tenantId: string;
  batchSize: number;
  shared: SharedBatchFacts;
  spell: ServiceContext['spell'];
  /** Mail kept in this advance, copied to the outbox after the commit. */
  kept: OutgoingMail[];
  stepsEvaluated: number;
  messagesSent: number;
}

/**
 * Moves a sandbox's clock forward to `to`, running everything of the tenant that falls due on
 * the way (steps, messages, replies forwarded to candidates, interview.ended), in due order, in
 * bounded batches. It is one use-case and one transaction: the tenant's row is locked first, so
 * concurrent advances take turns, and a failure leaves the clock and everything else where they
 * were. Kept mail is copied to the outbox and webhooks are delivered after the commit.
 */
export async function advanceTestClock(ctx: ServiceContext, caller: Caller, to: Date, options: AdvanceOptions = {}): Promise<AdvanceResult> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'advance the test clock');
  const tenantId = caller.tenantId;
  let slug = '';
  let kept: OutgoingMail[] = [];
  const result = await ctx.db.transaction().execute(async (trx) => {
    const tenant = await lockTenant(trx, tenantId);
    requireSandbox(tenant?.sandbox);
    slug = tenant!.slug;
    const from = tenant!.test_clock_at!;
    if (to.getTime() < from.getTime()) throw badInput('to', `must not be before the test clock (${from.toISOString()}): the clock only moves forward`);
    if (to.getTime() - from.getTime() > MAX_ADVANCE_DAYS * DAY_MS) throw badInput('to', `is more than ${MAX_ADVANCE_DAYS} days after the test clock (${from.toISOString()}); advance in steps`);
    // The tenant and its policy do not change during the advance (its row is locked, and the
    // advance is the only writer): read once, not per batch. So are the L12 letters.
    const facts = (await loadTenantFacts(trx, tenantId))!;
    const work: AdvanceWork = {
      tenantId,
      batchSize: options.batchSize ?? BATCH_SIZE,
      shared: { tenantId, facts, canned: sharedCannedLetters() },
      spell: ctx.spell,
      kept: [],
      stepsEvaluated: 0,
      messagesSent: 0,
    };
    let now = from;
    for (;;) {
      const due = await nextSandboxDueAt(trx, tenantId, to);
      if (!due) break;
      // The round ends an hour after its first due item (or at `to`), never before the clock's present.
      const started = now;
      const end = new Date(Math.min(to.getTime(), Math.max(now.getTime(), due.getTime() + SANDBOX_ROUND_MS)));
      if (end.getTime() !== now.getTime()) {
        now = end;
        await setTestClock(trx, tenantId, now);
      }
      const claimed = await runRound(trx, work, { started, end: now, advanceStarted: from });
      // Something due that could not be claimed is held by another transaction right now.
      if (claimed === 0) throw conflict('part of this sandbox is being changed by another request; try the advance again');
    }
    await setTestClock(trx, tenantId, to);
    kept = work.kept;
    return { now: to, stepsEvaluated: work.stepsEvaluated, messagesSent: work.messagesSent };
  });
  await keepCopies(ctx, slug, kept, options.log);
  await deliverWebhooks(ctx, tenantId, to, options.batchSize ?? BATCH_SIZE, options.log);
  return result;
}

/**
 * One round up to `end`: the interviews that ended (interview.ended), every due step in due
 * order, each at its own time (never before the round's start), then every message that may go,
 * each sent when it was released, and the replies to forward to candidates. Returns how many
 * rows it took.
 */
async function runRound(trx: Kysely<Database>, work: AdvanceWork, round: { started: Date; end: Date; advanceStarted: Date }): Promise<number> {
  const { tenantId, batchSize } = work;
  const { started, end } = round;
  let claimed = await announceEndedSandboxInterviews(trx, tenantId, end, batchSize);
  const nowOf = (step: { due_at: Date }) => (step.due_at.getTime() > started.getTime() ? step.due_at : started);
  for (;;) {
    const steps = await claimSandboxSteps(trx, tenantId, end, batchSize);
    claimed += steps.length;
    if (steps.length === 0) break;
    const batch = await evaluateClaimedSteps(trx, steps, { now: end, nowOf, spell: work.spell, plans: 'wait', shared: work.shared });
    work.stepsEvaluated += batch.evaluated;
    if (steps.length < batchSize) break;
  }
  // A message written in this advance went when its step released it; one released earlier (an
  // approval before the advance) goes at the advance's start.
  const sentAt = (message: MessageRow) => (message.created_at.getTime() > round.advanceStarted.getTime() ? message.created_at : round.advanceStarted);
  for (;;) {
    const messages = await claimSandboxMessages(trx, tenantId, end, new Date(end.getTime() + LEASE_MS), batchSize);
    claimed += messages.length;
    if (messages.length === 0) break;
    work.messagesSent += await recordKeptMessages(trx, messages, end, sentAt);
    for (const message of messages) if (message.channel === 'email' && message.to_address) work.kept.push(outgoingMailOf(message));
    if (messages.length < batchSize) break;
  }
  const forwards = await keepSandboxForwards(trx, tenantId, end, round.advanceStarted);
  claimed += forwards.length;
  if (forwards.length > 0) {
    await insertAuditEvents(
      trx,
      tenantId,
      forwards.map((row: ReplyForwardRow) => ({ actor: INBOUND_ACTOR, action: 'reply.forward_sent', entityType: 'reply', entityId: row.reply_id, data: { forwardId: row.id } })),
    );
    for (const row of forwards) work.kept.push(forwardMailOf(row));
  }
  return claimed;
}

/** `.eml` copies of kept mail under `<outbox>/<tenant slug>/`, as the outbox mailer writes them. */
async function keepCopies(ctx: ServiceContext, slug: string, mails: OutgoingMail[], log: Logger | undefined): Promise<void> {
  if (!ctx.sandboxOutboxDir || mails.length === 0) return;
  // The copies are for reading; the database holds the record, so they skip the flush to disk.
  const mailer = createMailer({ outboxDir: path.join(ctx.sandboxOutboxDir, slug), log: silentLog, durable: false });
  try {
    let next = 0;
    const lane = async () => {
      while (next < mails.length) {
        const mail = mails[next++]!;
        const outcome = await mailer.send(mail);
        if (outcome.status === 'failed') log?.warn({ code: outcome.code }, 'could not keep a copy of sandbox mail');
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
  } finally {
    await mailer.close();
  }
}

/** The sandbox's webhooks go out at once, each due by the new clock. */
async function deliverWebhooks(ctx: ServiceContext, tenantId: string, to: Date, batchSize: number, log: Logger | undefined): Promise<void> {
  for (;;) {
    const batch = await dispatchDueWebhooks(ctx.db, {
      ...ctx.webhooks,
      clock: () => to,
      log: log ?? silentLog,
      batchSize,
      concurrency: 8,
      scope: { tenantId },
    });
    if (batch.claimed < batchSize) return;
  }
}

const silentLog: Logger = pino({ enabled: false });
