import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { findNextDueAt } from '../db/messages.js';
import type { Database } from '../db/schema.js';
import type { SpellChecker } from '../domain/lint.js';
import { errorForLog } from '../logger.js';
import type { InboundAddressing } from '../inbound/reply-token.js';
import type { Mailer } from '../mail/mailer.js';
import type { RelayBreaker } from '../mail/relay-breaker.js';
import type { Metrics } from '../metrics.js';
import { type InboundDependencies, processPendingInbound } from '../services/inbound-mail.js';
import { findNextStepDueAt } from '../db/follow-up-plans.js';
import { STEP_ALARM_HORIZON_MS } from '../db/work-signals.js';
import { dispatchDueMessages } from '../services/message-dispatch.js';
import { announceEndedInterviews } from '../services/interview-endings.js';
import { dispatchReplyForwards } from '../services/reply-forwards.js';
import type { DkimKeys } from '../services/sending-domains.js';
import type { SendRateLimit } from '../services/send-rate.js';
import { type EvaluationBatchResult, evaluateDueSteps } from '../services/step-evaluation.js';
import { dispatchDueWebhooks, type WebhookSettings } from '../services/webhooks.js';
import type { WorkerLane } from './worker.js';

export interface WorkerSettings {
  /** Steps evaluated, or messages claimed, per transaction. */
  batchSize: number;
  /** How long a claimed message is ours before another worker may take it over (renewed by the heartbeat). */
  leaseMs: number;
  /** How often the leases of messages held are renewed. Default a quarter of the lease. */
  heartbeatMs?: number;
  /** Sends in flight at once per process. */
  sendConcurrency: number;
  /** Messages at once between handover and recorded acceptance: the most a crash sends twice. */
  handoverWindow: number;
}

export interface TickDependencies {
  db: Kysely<Database>;
  mailer: Mailer;
  spell: SpellChecker;
  clock: () => Date;
  log: Logger;
  settings: WorkerSettings;
  webhooks: WebhookSettings;
  metrics?: Metrics;
  /** The process's relay breaker; without one, each dispatch starts with a closed one. */
  breaker?: RelayBreaker;
  /** Reply/bounce addresses at INBOUND_DOMAIN for outgoing mail. */
  addressing?: InboundAddressing;
  /** Handle stored inbound mail here too (a worker-only process, for mail the API's routes stored). */
  inbound?: InboundDependencies;
  /** The tenants' DKIM keys, kept across ticks (absent: mail goes unsigned). */
  dkimKeys?: DkimKeys;
  /** SMTP_MAX_PER_SECOND, shared with the deployment's other worker processes. */
  sendRate?: SendRateLimit | undefined;
}

/**
 * Evaluates every step due now, in batches. Two batches run at once on separate connections
 * (SKIP LOCKED keeps them apart), so one batch's writes overlap the next one's evaluation.
 */
export async function drainDueSteps(
  deps: Pick<TickDependencies, 'db' | 'spell' | 'clock' | 'log' | 'settings' | 'metrics'>,
  signal: AbortSignal,
  lanes = 4,
  onBatch?: (batch: EvaluationBatchResult) => void,
): Promise<number> {
  let evaluated = 0;
  const lane = async () => {
    for (;;) {
      if (signal.aborted) return;
      const batch = await evaluateDueSteps(deps.db, {
        now: deps.clock(),
        batchSize: deps.settings.batchSize,
        spell: deps.spell,
        onStepError: (stepId, error) => deps.log.error({ stepId, ...errorForLog(error) }, 'step evaluation failed'),
      });
      evaluated += batch.evaluated;
      for (const [decision, count] of Object.entries(batch.decisions)) if (count > 0) deps.metrics?.stepsEvaluated.inc({ decision }, count);
      if (batch.claimed > 0) deps.log.info({ claimed: batch.claimed, decisions: batch.decisions }, 'due steps evaluated');
      onBatch?.(batch);
      // Claims take whole plans and pass over the plans other lanes hold, so a lane stops only
      // when it finds nothing to claim: whatever is still due then is held by a lane that goes on
      // (and claims again before it stops), so nothing due now is left for the next tick.
      if (batch.plans === 0) return;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return evaluated;
}

/**
 * One alarm, set for the earliest time asked: it wakes its lane when that time comes. Unref'd, so
 * it never keeps a stopping process alive; a wake-up after the worker stopped does nothing.
 */
function createDueAlarm() {
  let timer: NodeJS.Timeout | undefined;
  let at = Number.POSITIVE_INFINITY;
  return {
    set(when: Date | null, now: Date, wake: () => void): void {
      if (!when) return;
      const ms = when.getTime() - now.getTime();
      if (ms > STEP_ALARM_HORIZON_MS || (timer && at <= when.getTime())) return;
      clearTimeout(timer);
      at = when.getTime();
      timer = setTimeout(() => {
        timer = undefined;
        at = Number.POSITIVE_INFINITY;
        wake();
      }, Math.max(MIN_WAIT_MS, ms + 1));
      timer.unref();
    },
  };
}

/** How far ahead the mail lane waits for the next message to fall due, at most. */
const SOON_MS = 10_000;
const MIN_WAIT_MS = 50;

/**
 * The mail lane: sends every message that may go. While the relay is away the lane waits here
 * for the breaker's next probe (rather than for the next tick), so sending resumes as soon as a
 * probe gets through.
 */
export async function sendDueMail(deps: TickDependencies, signal: AbortSignal): Promise<void> {
  const { db, log, settings } = deps;
  let waitedFor: Date | null = null;
  for (;;) {
    if (signal.aborted) return;
    const dispatched = await dispatchDueMessages(db, {
      mailer: deps.mailer,
      clock: deps.clock,
      log,
      batchSize: settings.batchSize,
      leaseMs: settings.leaseMs,
      ...(settings.heartbeatMs ? { heartbeatMs: settings.heartbeatMs } : {}),
      concurrency: settings.sendConcurrency,
      handoverWindow: settings.handoverWindow,
      ...(deps.breaker ? { breaker: deps.breaker } : {}),
      addressing: deps.addressing,
      ...(deps.dkimKeys ? { dkimKeys: deps.dkimKeys } : {}),
      sendRate: deps.sendRate,
      signal,
      onOutcome: (outcome) => deps.metrics?.sendResults.inc({ result: outcome.status === 'sent' ? 'sent' : outcome.failureClass }),
    });
    if (dispatched.claimed > 0) log.info(dispatched, 'messages dispatched');
    if (signal.aborted) return;
    const paused = dispatched.pausedUntil;
    // A dispatch also ends when a claim comes back short because another process claimed the
    // same rows at that moment: the lane stops only once a dispatch finds nothing at all.
    if (!paused && dispatched.claimed > 0) {
      waitedFor = null;
      continue;
    }
    if (paused) {
      const wait = paused.getTime() - deps.clock().getTime();
      // A probe was due but nothing was left to probe with: the next tick looks again.
      if (wait <= 0 && dispatched.claimed === 0) return;
      await sleep(Math.max(0, wait), signal);
      continue;
    }
    // Nothing more is due now. A message falling due soon (a lease a crashed worker left, which
    // must go within seconds, or a retry) is waited for here rather than until the next tick;
    // live workers renew their leases long before they come this close.
    const nextDue = await findNextDueAt(db, deps.clock());
    if (!nextDue || (waitedFor && nextDue.getTime() <= waitedFor.getTime())) return;
    const wait = nextDue.getTime() - deps.clock().getTime();
    if (wait > Math.min(settings.leaseMs / 2, SOON_MS)) return;
    waitedFor = nextDue;
    await sleep(Math.max(MIN_WAIT_MS, wait), signal);
  }
}

/** The webhook lane: posts every delivery that is due, batch after batch. */
export async function deliverDueWebhooks(deps: TickDependencies, signal: AbortSignal): Promise<void> {
  const { db, log, settings } = deps;
  // One delivery per send slot at a time: each is over within its timeout, well inside its lease,
  // and a crash leaves no more than that many behind.
  const batchSize = Math.min(settings.batchSize, settings.sendConcurrency);
  for (;;) {
    if (signal.aborted) return;
    const batch = await dispatchDueWebhooks(db, {
      ...deps.webhooks,
      clock: deps.clock,
      log,
      batchSize,
      concurrency: settings.sendConcurrency,
      signal,
      onResult: (result) => deps.metrics?.webhookResults.inc({ outcome: result.outcome }),
    });
    if (batch.claimed > 0) log.info(batch, 'webhooks delivered');
    // Only an empty claim ends the lane (a short one may have met another process's claim).
    if (batch.claimed === 0) return;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The worker's three lanes, each run on the schedule on its own, never waiting for another:
 * evaluation, mail and webhooks. A backlog in one (thousands of messages to a slow relay, or
 * webhooks to a slow partner) delays nothing in the others. New messages and events from an
 * evaluation are picked up at once (the mail and webhook lanes follow it when they are idle).
 */
/** The steps lane: announce interviews that have ended (interview.ended), then evaluate every due step. */
export async function evaluateDueWork(deps: TickDependencies, signal: AbortSignal, wake?: (lane: string) => void): Promise<void> {
  const ended = await announceEndedInterviews(deps.db, deps.clock(), deps.settings.batchSize, signal);
  if (ended > 0) deps.log.info({ ended }, 'interview.ended announced');
  if (signal.aborted) return;
  // Messages released by a batch go as soon as it commits, not after the whole drain: a big
  // tenant's thousands of steps must not hold back the mail of the few evaluated beside them.
  await drainDueSteps(deps, signal, undefined, (batch) => {
    if (batch.decisions.send > 0) wake?.('mail');
  });
}

/**
 * The replies lane: handles inbound mail stored by another process (a worker-only process, for
 * mail the API's routes stored), then forwards employers' replies to their candidates.
 */
export async function handleReplies(deps: TickDependencies, signal: AbortSignal): Promise<void> {
  const { db, log, settings } = deps;
  if (deps.inbound && !signal.aborted) {
    const handled = await processPendingInbound(deps.inbound, settings.batchSize, signal);
    if (handled.processed > 0) log.info(handled, 'inbound mail handled');
  }
  if (signal.aborted) return;
  const forwarded = await dispatchReplyForwards(db, {
    mailer: deps.mailer,
    clock: deps.clock,
    log,
    leaseMs: settings.leaseMs,
    batchSize: settings.batchSize,
    signal,
    sendRate: deps.sendRate,
    ...(deps.dkimKeys ? { dkimKeys: deps.dkimKeys } : {}),
  });
  if (forwarded.sent + forwarded.retried + forwarded.dead > 0) log.info(forwarded, 'replies forwarded to candidates');
}

export function workerLanes(deps: TickDependencies): WorkerLane[] {
  const nextStep = createDueAlarm();
  return [
    {
      name: 'steps',
      run: async (signal, wake) => {
        await evaluateDueWork(deps, signal, wake);
        if (signal.aborted) return;
        // A step falling due before the next tick is evaluated when it does, not at the tick.
        const now = deps.clock();
        nextStep.set(await findNextStepDueAt(deps.db, now), now, () => wake('steps'));
      },
      then: ['mail', 'webhooks'],
    },
    { name: 'mail', run: (signal) => sendDueMail(deps, signal) },
    { name: 'webhooks', run: (signal) => deliverDueWebhooks(deps, signal) },
    { name: 'replies', run: (signal) => handleReplies(deps, signal) },
  ];
}

/**
 * One worker tick, all at once: evaluate every step that has fallen due, then send every
 * message that may go and post every webhook that is due, the two lanes side by side.
 */
export async function runWorkerTick(deps: TickDependencies, signal: AbortSignal): Promise<void> {
  await evaluateDueWork(deps, signal);
  if (signal.aborted) return;
  await Promise.all([sendDueMail(deps, signal), deliverDueWebhooks(deps, signal), handleReplies(deps, signal)]);
}
