import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';

export interface TickDependencies {
  db: Kysely<Database>;
  log: Logger;
  signal: AbortSignal;
}

/** One worker tick. Delivery (claiming due steps, sending, webhooks) plugs in here. */
export async function runWorkerTick(_deps: TickDependencies): Promise<void> {}
