import cron from 'node-cron';
import type { Logger } from 'pino';
import { errorForLog } from '../logger.js';

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

  const runTick = async () => {
    if (inFlight || stopping.signal.aborted) return;
    const started = performance.now();
    inFlight = options
      .tick(stopping.signal)
      .catch((error: unknown) => {
        options.log.error(errorForLog(error), 'worker tick failed');
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
