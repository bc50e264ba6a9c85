import { errorForLog } from '../logger.js';
import { type InboundDependencies, processPendingInbound } from '../services/inbound-mail.js';

// Handles stored inbound mail soon after it arrives: a kick after each stored message runs the
// processor (one run at a time; a kick during a run asks for another), and a periodic sweep picks
// up whatever a crash left behind. Another process doing the same is harmless: rows are locked
// with SKIP LOCKED and handled once.

export interface InboundProcessor {
  kick(): void;
  /** Resolves when the current run (if any) is over. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startInboundProcessor(deps: InboundDependencies, options: { sweepMs?: number } = {}): InboundProcessor {
  const controller = new AbortController();
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): void => {
    if (controller.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          const result = await processPendingInbound(deps, 100, controller.signal);
          if (result.processed > 0) deps.log.info(result, 'inbound mail handled');
        } catch (error) {
          deps.log.error(errorForLog(error), 'inbound mail processing failed; retried at the next sweep');
        }
      } while (again && !controller.signal.aborted);
    })().finally(() => {
      running = null;
    });
  };
  const sweep = setInterval(run, options.sweepMs ?? 15_000);
  sweep.unref();
  run();
  return {
    kick: run,
    idle: async () => {
      while (running) await running;
    },
    async stop() {
      clearInterval(sweep);
      controller.abort();
      await running;
    },
  };
}
