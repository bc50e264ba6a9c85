import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

// Wake-ups: an API call that makes work due now (an approval, a redelivery, a reply to forward)
// tells the workers so in its own transaction, and the workers' lanes run at once instead of at
// their next tick. PostgreSQL delivers a NOTIFY only when the transaction commits (never for one
// rolled back) to every process listening; PGlite does the same within its one process.

/** The channel the workers listen on; the payload names the lane that has work. */
export const WORK_CHANNEL = 'afterview_work';

/**
 * How far ahead a worker's steps lane sets itself an alarm for the next step to fall due; a use-case
 * that plans a step due within it signals the steps lane, so the alarm is set for that step too.
 */
export const STEP_ALARM_HORIZON_MS = 60_000;

/** The worker lanes a wake-up can name (src/worker/tick.ts). */
export type WorkLane = 'steps' | 'mail' | 'webhooks' | 'replies';

/** Tells every worker, when the caller's transaction commits, that `lane` has work due now. */
export async function signalWorkDue(db: Kysely<Database>, lane: WorkLane): Promise<void> {
  await sql`SELECT pg_notify(${WORK_CHANNEL}, ${lane})`.execute(db);
}
