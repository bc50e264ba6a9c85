import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

// SMTP_MAX_PER_SECOND's shared count (table smtp_send_slots, migration 0015). Slots are numbered
// from the database's clock, the one clock every worker process of a deployment shares.

/**
 * Takes a place in the current slot (`slotMs` long) if fewer than `perSlot` are taken there and
 * fewer than `perWindow` in the last `windowSlots` slots (this one included), in one upsert:
 * concurrent takers queue on the slot's row, so no slot counts more than its share and no run of
 * `windowSlots` slots more than `perWindow`. Returns whether a place was taken and how long until
 * the next slot begins. A count lost in a database crash only lets a few messages more through,
 * so the commit does not wait for the disk.
 */
export async function takeSendSlot(
  db: Kysely<Database>,
  limits: { slotMs: number; perSlot: number; windowSlots: number; perWindow: number },
): Promise<{ taken: boolean; nextSlotInMs: number }> {
  const { slotMs, perSlot, windowSlots, perWindow } = limits;
  const result = await sql<{ taken: boolean; next_slot_in_ms: number | string }>`
    WITH clock AS (
      SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms, set_config('synchronous_commit', 'off', true) AS this_commit_only
    ), current_slot AS (
      SELECT floor(ms / ${slotMs}::float8)::bigint AS slot, ms FROM clock
    ), earlier AS (
      SELECT coalesce(sum(s.taken), 0)::int AS taken
      FROM smtp_send_slots AS s, current_slot AS c
      WHERE s.slot > c.slot - ${windowSlots}::bigint AND s.slot < c.slot
    ), place AS (
      INSERT INTO smtp_send_slots (slot, taken)
      SELECT c.slot, 1 FROM current_slot AS c, earlier AS e WHERE e.taken < ${perWindow}
      ON CONFLICT (slot) DO UPDATE SET taken = smtp_send_slots.taken + 1
      WHERE smtp_send_slots.taken < ${perSlot} AND smtp_send_slots.taken + (SELECT taken FROM earlier) < ${perWindow}
      RETURNING slot
    )
    SELECT EXISTS (SELECT 1 FROM place) AS taken,
      ((slot + 1) * ${slotMs}::float8 - ms)::float8 AS next_slot_in_ms
    FROM current_slot`.execute(db);
  const row = result.rows[0]!;
  return { taken: row.taken, nextSlotInMs: Number(row.next_slot_in_ms) };
}

/** Forgets the slots that ended more than `keepMs` ago (they only ever grow otherwise). */
export async function deleteOldSendSlots(db: Kysely<Database>, slotMs: number, keepMs: number): Promise<void> {
  await sql`
    DELETE FROM smtp_send_slots
    WHERE slot < floor((extract(epoch FROM clock_timestamp()) * 1000 - ${keepMs}::float8) / ${slotMs}::float8)::bigint`.execute(db);
}
