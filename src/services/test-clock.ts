import path from 'node:path';
import type { Kysely } from 'kysely';
import { type Logger, pino } from 'pino';
import type { Database, MessageRow } from '../db/schema.js';
import { findTestClock, lockTenant, nextDueAt, setTestClock } from '../db/tenants.js';
import { claimSandboxMessages, claimSandboxSteps } from '../db/test-clock.js';
import { createMailer } from '../mail/mailer.js';
import { type Caller, requireScope, type ServiceContext } from './context.js';
import { badInput, conflict, ServiceError } from './errors.js';
import { outgoingMailOf, recordKeptMessages } from './message-dispatch.js';
import { evaluateClaimedSteps } from './step-evaluation.js';
import { dispatchDueWebhooks } from './webhooks.js';

// Sandboxes and the test clock. A sandbox tenant's "now" is its test clock, stored with the
// tenant and frozen between advances; every use-case reads it through ctx.clock, which is
// resolved here, per request, for the caller's tenant. Advancing the clock runs the tenant's
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

// Tenants never change from live to sandbox while the service runs (the development tenant of
// an old data directory becomes one at start-up, before any request), so a tenant once seen
// live needs no further lookup.
const KNOWN_LIVE_LIMIT = 10_000;
const knownLive = new Set<string>();

/** The services as the caller's tenant sees them: a sandbox's clock is its test clock. */
export function servicesForCaller(services: ServiceContext, caller: Caller): Promise<ServiceContext> {
  return servicesForTenant(services, caller.tenantId);
}

/**
 * The same for work that arrives without a caller but names its tenant (inbound mail: a reply
 * to a sandbox's kept message is received at the sandbox's time).
 */
export async function servicesForTenant(services: ServiceContext, tenantId: string): Promise<ServiceContext> {
  if (knownLive.has(tenantId)) return services;
  const clock = await findTestClock(services.db, tenantId);
  if (!clock?.sandbox || !clock.test_clock_at) {
    if (clock) {
      if (knownLive.size >= KNOWN_LIVE_LIMIT) knownLive.clear();
      knownLive.add(tenantId);
    }
    return services;
  }
  const now = clock.test_clock_at;
  return { ...services, clock: () => new Date(now.getTime()) };
}

function requireSandbox(sandbox: boolean | undefined): void {
  if (!sandbox) throw new ServiceError('FORBIDDEN', 'only a sandbox tenant has a test clock; this tenant is live');
}

export async function getTestClock(ctx: ServiceContext, caller: Caller): Promise<Date> {
  requireScope(caller, 'followups:read');
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

/**
 * Moves a sandbox's clock forward to `to`, running everything of the tenant that falls due on
 * the way, in due order, in bounded batches. It is one use-case and one transaction: the
 * tenant's row is locked first, so concurrent advances take turns, and a failure leaves the
 * clock and everything else where they were. Kept mail is copied to the outbox and webhooks are
 * delivered after the commit.
 */
export async function advanceTestClock(ctx: ServiceContext, caller: Caller, to: Date, options: AdvanceOptions = {}): Promise<AdvanceResult> {
  requireScope(caller, 'followups:write');
  const tenantId = caller.tenantId;
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const kept: MessageRow[] = [];
  let slug = '';
  const result = await ctx.db.transaction().execute(async (trx) => {
    const tenant = await lockTenant(trx, tenantId);
    requireSandbox(tenant?.sandbox);
    slug = tenant!.slug;
    const from = tenant!.test_clock_at!;
    if (to.getTime() < from.getTime()) throw badInput('to', `must not be before the test clock (${from.toISOString()}): the clock only moves forward`);
    if (to.getTime() - from.getTime() > MAX_ADVANCE_DAYS * DAY_MS) throw badInput('to', `is more than ${MAX_ADVANCE_DAYS} days after the test clock (${from.toISOString()}); advance in steps`);
    let now = from;
    let stepsEvaluated = 0;
    let messagesSent = 0;
    for (;;) {
      const due = await nextDueAt(trx, tenantId, to);
      if (!due) break;
      // The round ends an hour after its first due item (or at `to`), never before the clock's present.
      const started = now;
      const end = new Date(Math.min(to.getTime(), Math.max(now.getTime(), due.getTime() + SANDBOX_ROUND_MS)));
      if (end.getTime() !== now.getTime()) {
        now = end;
        await setTestClock(trx, tenantId, now);
      }
      const progress = await runRound(trx, ctx, tenantId, { started, end: now, advanceStarted: from }, batchSize, kept);
      stepsEvaluated += progress.stepsEvaluated;
      messagesSent += progress.messagesSent;
      // Something due that could not be claimed is held by another transaction right now.
      if (progress.claimed === 0) throw conflict('part of this sandbox is being changed by another request; try the advance again');
    }
    await setTestClock(trx, tenantId, to);
    return { now: to, stepsEvaluated, messagesSent };
  });
  await keepCopies(ctx, slug, kept, options.log);
  await deliverWebhooks(ctx, tenantId, to, batchSize, options.log);
  return result;
}

/**
 * One round up to `end`: every due step in due order, each at its own time (never before the
 * round's start), then every message that may go, each sent when it was released.
 */
async function runRound(
  trx: Kysely<Database>,
  ctx: ServiceContext,
  tenantId: string,
  round: { started: Date; end: Date; advanceStarted: Date },
  batchSize: number,
  kept: MessageRow[],
) {
  const { started, end } = round;
  const nowOf = (step: { due_at: Date }) => (step.due_at.getTime() > started.getTime() ? step.due_at : started);
  let claimed = 0;
  let stepsEvaluated = 0;
  let messagesSent = 0;
  for (;;) {
    const steps = await claimSandboxSteps(trx, tenantId, end, batchSize);
    claimed += steps.length;
    if (steps.length === 0) break;
    const batch = await evaluateClaimedSteps(trx, steps, { now: end, nowOf, spell: ctx.spell, skipLocked: false });
    stepsEvaluated += batch.evaluated;
    if (steps.length < batchSize) break;
  }
  // A message written in this advance went when its step released it; one released earlier (an
  // approval before the advance) goes at the advance's start.
  const sentAt = (message: MessageRow) => (message.created_at.getTime() > round.advanceStarted.getTime() ? message.created_at : round.advanceStarted);
  for (;;) {
    const messages = await claimSandboxMessages(trx, tenantId, end, new Date(end.getTime() + LEASE_MS), batchSize);
    claimed += messages.length;
    if (messages.length === 0) break;
    messagesSent += await recordKeptMessages(trx, messages, end, sentAt);
    kept.push(...messages);
    if (messages.length < batchSize) break;
  }
  return { claimed, stepsEvaluated, messagesSent };
}

/** `.eml` copies of kept mail under `<outbox>/<tenant slug>/`, as the outbox mailer writes them. */
async function keepCopies(ctx: ServiceContext, slug: string, messages: MessageRow[], log: Logger | undefined): Promise<void> {
  if (!ctx.sandboxOutboxDir || messages.length === 0) return;
  const mailer = createMailer({ outboxDir: path.join(ctx.sandboxOutboxDir, slug), log: log ?? silentLog });
  try {
    let next = 0;
    const lane = async () => {
      while (next < messages.length) {
        const message = messages[next++]!;
        if (message.channel !== 'email' || !message.to_address) continue;
        const outcome = await mailer.send(outgoingMailOf(message));
        if (outcome.status === 'failed') log?.warn({ messageId: message.id, code: outcome.code }, 'could not keep a copy of sandbox mail');
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
