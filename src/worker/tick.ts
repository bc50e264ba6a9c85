import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { SpellChecker } from '../domain/lint.js';
import type { InboundAddressing } from '../inbound/reply-token.js';
import type { Mailer } from '../mail/mailer.js';
import type { Metrics } from '../metrics.js';
import { type InboundDependencies, processPendingInbound } from '../services/inbound-mail.js';
import { dispatchDueMessages } from '../services/message-dispatch.js';
import { dispatchReplyForwards } from '../services/reply-forwards.js';
import { evaluateDueSteps } from '../services/step-evaluation.js';
import { dispatchDueWebhooks, type WebhookSettings } from '../services/webhooks.js';
import { errorForLog } from '../logger.js';

export interface WorkerSettings {
  /** Steps evaluated, or messages claimed, per transaction. */
  batchSize: number;
  /** How long a claimed message is ours before another worker may take it over. */
  leaseMs: number;
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
  /** Reply/bounce addresses at INBOUND_DOMAIN for outgoing mail. */
  addressing?: InboundAddressing;
  /** Handle stored inbound mail here too (a worker-only process, for mail the API's routes stored). */
  inbound?: InboundDependencies;
}

/**
 * Evaluates every step due now, in batches. Two batches run at once on separate connections
 * (SKIP LOCKED keeps them apart), so one batch's writes overlap the next one's evaluation.
 */
export async function drainDueSteps(deps: Pick<TickDependencies, 'db' | 'spell' | 'clock' | 'log' | 'settings' | 'metrics'>, signal: AbortSignal, lanes = 4): Promise<number> {
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
      // A short batch means nothing more is due; a batch all of whose plans were busy elsewhere
      // waits for the next tick rather than spinning on the same rows.
      if (batch.claimed < deps.settings.batchSize || batch.evaluated === 0) return;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return evaluated;
}

/**
 * One worker tick: evaluate every step that has fallen due, send every message that may go,
 * then post every webhook that is due, batch after batch until nothing is left or the process
 * is asked to stop.
 */
export async function runWorkerTick(deps: TickDependencies, signal: AbortSignal): Promise<void> {
  const { db, log, settings } = deps;
  await drainDueSteps(deps, signal);
  if (signal.aborted) return;
  const dispatched = await dispatchDueMessages(db, {
    mailer: deps.mailer,
    clock: deps.clock,
    log,
    batchSize: settings.batchSize,
    leaseMs: settings.leaseMs,
    concurrency: settings.sendConcurrency,
    handoverWindow: settings.handoverWindow,
    addressing: deps.addressing,
    signal,
    onOutcome: (outcome) => deps.metrics?.sendResults.inc({ result: outcome.status === 'sent' ? 'sent' : outcome.failureClass }),
  });
  if (dispatched.claimed > 0) log.info(dispatched, 'messages dispatched');
  if (deps.inbound && !signal.aborted) {
    const handled = await processPendingInbound(deps.inbound, settings.batchSize, signal);
    if (handled.processed > 0) log.info(handled, 'inbound mail handled');
  }
  if (!signal.aborted) {
    const forwarded = await dispatchReplyForwards(db, { mailer: deps.mailer, clock: deps.clock, log, leaseMs: settings.leaseMs, batchSize: settings.batchSize, signal });
    if (forwarded.sent + forwarded.retried + forwarded.dead > 0) log.info(forwarded, 'replies forwarded to candidates');
  }
  for (;;) {
    if (signal.aborted) return;
    const batch = await dispatchDueWebhooks(db, {
      ...deps.webhooks,
      clock: deps.clock,
      log,
      batchSize: settings.batchSize,
      concurrency: settings.sendConcurrency,
      signal,
      onResult: (result) => deps.metrics?.webhookResults.inc({ outcome: result.outcome }),
    });
    if (batch.claimed > 0) log.info(batch, 'webhooks delivered');
    if (batch.claimed < settings.batchSize) break;
  }
}
