import cron from 'node-cron';
import type { Logger } from 'pino';
import { errorForLog } from '../logger.js';
import { unavailableOrUndefined } from '../services/errors.js';

export interface WorkerHandle {
  /** Stops claiming new work, waits for the tick in flight, then returns. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** node-cron expression; six fields allow seconds. */
  schedule: string;
  tick: (signal: AbortSignal) => Promise<void>;
  log: Logger;
  /** Called after every tick with its duration (metrics). */
  onTickDone?: (ms: number) => void;
  /** Called when the worker pauses (false) because the database is away, and resumes (true). */
  onAvailability?: (reachable: boolean) => void;
}

/**
 * Runs `tick` on the cron schedule, never two at once in this process: a tick still running
 * when the next is due makes the next one skip (several processes coordinate through row locks
 * in the database, not here).
 */
export function startWorker(options: WorkerOptions): WorkerHandle {
  if (!cron.validate(options.schedule)) throw new Error(`WORKER_CRON is not a valid cron expression: ${options.schedule}`);
  const stopping = new AbortController();
  let inFlight: Promise<void> | null = null;
  // While the database is away every tick fails the same way: say so once, and once again when
  // it answers, instead of an error per tick. Work waits in the database meanwhile; the next
  // tick that reaches it carries on where the last one stopped.
  let paused = false;

  const runTick = async () => {
    if (inFlight || stopping.signal.aborted) return;
    const started = performance.now();
    inFlight = options
      .tick(stopping.signal)
      .then(() => {
        if (!paused) return;
        paused = false;
        options.onAvailability?.(true);
        options.log.info('the database answers again: the worker resumes');
      })
      .catch((error: unknown) => {
        if (!unavailableOrUndefined(error)) {
          options.log.error(errorForLog(error), 'worker tick failed');
          return;
        }
        if (paused) return;
        paused = true;
        options.onAvailability?.(false);
        options.log.warn(errorForLog(error), 'the database is unreachable: the worker pauses and tries again at every tick');
      })
      .finally(() => {
        const ms = performance.now() - started;
        options.onTickDone?.(ms);
        options.log.debug({ ms: Math.round(ms) }, 'worker tick done');
        inFlight = null;
      });
    await inFlight;
  };

  const task = cron.createTask(options.schedule, runTick, { noOverlap: true, name: 'afterview-worker' });
  void task.start();
  options.log.info({ schedule: options.schedule }, 'worker scheduled');

  return {
    async stop() {
      stopping.abort();
      await task.stop();
      await task.destroy();
      await inFlight;
    },
  };
}
