import cron from 'node-cron';
import type { Logger } from 'pino';
import { errorForLog } from '../logger.js';
import { unavailableOrUndefined } from '../services/errors.js';

export interface WorkerHandle {
  /**
   * Work for this lane became due now (a wake-up from an API call): the lane runs at once, or,
   * when it is running, once more as soon as it finishes (its run may have claimed before the
   * work was there). Unknown lane names are ignored.
   */
  wake(lane: string): void;
  /** Every lane runs now (as after a wake-up that may have been missed). */
  wakeAll(): void;
  /** Stops claiming new work, waits for the runs in flight, then returns. */
  stop(): Promise<void>;
}

/** One kind of work the worker does on its own (evaluation, mail, webhooks). */
export interface WorkerLane {
  name: string;
  /** `wake` starts another lane at once (as a wake-up does): work this run made due now. */
  run: (signal: AbortSignal, wake: (lane: string) => void) => Promise<unknown>;
  /** Lanes started as soon as this one finishes a run (when they are not already running). */
  then?: string[];
}

export interface WorkerOptions {
  /** node-cron expression; six fields allow seconds. */
  schedule: string;
  /** A single lane named 'tick'; or give `lanes`. */
  tick?: (signal: AbortSignal) => Promise<void>;
  lanes?: WorkerLane[];
  log: Logger;
  /** Called after every run of a lane with its duration (metrics). */
  onTickDone?: (ms: number, lane: string) => void;
  /** Called when the worker pauses (false) because the database is away, and resumes (true). */
  onAvailability?: (reachable: boolean) => void;
}

/**
 * Runs each lane on the cron schedule, never two runs of one lane at once in this process: a
 * lane still running when the next tick comes skips it, while the other lanes go on (several
 * processes coordinate through row locks and leases in the database, not here).
 */
export function startWorker(options: WorkerOptions): WorkerHandle {
  if (!cron.validate(options.schedule)) throw new Error(`WORKER_CRON is not a valid cron expression: ${options.schedule}`);
  const lanes = options.lanes ?? (options.tick ? [{ name: 'tick', run: options.tick }] : []);
  const stopping = new AbortController();
  const inFlight = new Map<string, Promise<void>>();
  // While the database is away every lane fails the same way: say so once, and once again when
  // a lane gets through, instead of an error per lane and tick. Work waits in the database
  // meanwhile; the next run that reaches it carries on where the last one stopped.
  let paused = false;
  const reached = () => {
    if (!paused) return;
    paused = false;
    options.onAvailability?.(true);
    options.log.info('the database answers again: the worker resumes');
  };
  const failed = (lane: string, error: unknown) => {
    if (!unavailableOrUndefined(error)) {
      options.log.error({ lane, ...errorForLog(error) }, 'worker lane failed');
      return;
    }
    if (paused) return;
    paused = true;
    options.onAvailability?.(false);
    options.log.warn({ lane, ...errorForLog(error) }, 'the database is unreachable: the worker pauses and tries again at every tick');
  };

  // Lanes woken while they ran: they run once more when they finish.
  const wokenWhileRunning = new Set<string>();
  const runLane = (lane: WorkerLane): Promise<void> => {
    const running = inFlight.get(lane.name);
    if (running || stopping.signal.aborted) return running ?? Promise.resolve();
    const started = performance.now();
    const run: Promise<void> = lane
      .run(stopping.signal, (name) => wake(name))
      .then(reached, (error: unknown) => failed(lane.name, error))
      .finally(() => {
        const ms = performance.now() - started;
        options.onTickDone?.(ms, lane.name);
        options.log.debug({ lane: lane.name, ms: Math.round(ms) }, 'worker lane done');
        inFlight.delete(lane.name);
        if (wokenWhileRunning.delete(lane.name)) void runLane(lane);
        for (const name of lane.then ?? []) {
          const next = lanes.find((candidate) => candidate.name === name);
          if (next) void runLane(next);
        }
      });
    inFlight.set(lane.name, run);
    return run;
  };

  const task = cron.createTask(
    options.schedule,
    () => {
      for (const lane of lanes) void runLane(lane);
    },
    { name: 'afterview-worker' },
  );
  void task.start();
  options.log.info({ schedule: options.schedule, lanes: lanes.map((lane) => lane.name) }, 'worker scheduled');

  const wake = (name: string) => {
    const lane = lanes.find((candidate) => candidate.name === name);
    if (!lane || stopping.signal.aborted) return;
    if (inFlight.has(name)) wokenWhileRunning.add(name);
    else void runLane(lane);
  };

  return {
    wake,
    wakeAll() {
      for (const lane of lanes) wake(lane.name);
    },
    async stop() {
      stopping.abort();
      await task.stop();
      await task.destroy();
      // A lane that finished may have started its followers: wait until nothing runs.
      while (inFlight.size > 0) await Promise.all(inFlight.values());
    },
  };
}
