import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { takeSendSlot } from '../../src/db/send-slots.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// SMTP_MAX_PER_SECOND's count in the database: a slot's share, and the rate over a run of slots.
// Hour-long slots keep every take of a test in one slot, whatever the machine's speed.

const HOUR = 3_600_000;

describe.each(testDatabaseKinds())('send slots on %s', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await sql`DELETE FROM smtp_send_slots`.execute(database.db);
  });

  async function takes(times: number, limits: Parameters<typeof takeSendSlot>[1]): Promise<boolean[]> {
    const results: boolean[] = [];
    for (let i = 0; i < times; i += 1) results.push((await takeSendSlot(database.db, limits)).taken);
    return results;
  }

  it("gives a slot its share and no more, and says when the next slot begins", async () => {
    const results = await takes(8, { slotMs: HOUR, perSlot: 5, windowSlots: 11, perWindow: 50 });
    expect(results).toEqual([true, true, true, true, true, false, false, false]);
    const next = await takeSendSlot(database.db, { slotMs: HOUR, perSlot: 5, windowSlots: 11, perWindow: 50 });
    expect(next.nextSlotInMs).toBeGreaterThan(0);
    expect(next.nextSlotInMs).toBeLessThanOrEqual(HOUR);
  });

  it('counts the earlier slots of the run against the rate', async () => {
    const current = Math.floor(Date.now() / HOUR);
    // Three places two slots ago, four the slot before: of a rate of 9 over 3 slots, 2 are left.
    await sql`INSERT INTO smtp_send_slots (slot, taken) VALUES (${current - 2}, 3), (${current - 1}, 4), (${current - 3}, 5)`.execute(database.db);
    expect(await takes(4, { slotMs: HOUR, perSlot: 5, windowSlots: 3, perWindow: 9 })).toEqual([true, true, false, false]);
  });

  it('lets a run full from earlier slots take nothing, even in a new slot', async () => {
    const current = Math.floor(Date.now() / HOUR);
    await sql`INSERT INTO smtp_send_slots (slot, taken) VALUES (${current - 1}, 9)`.execute(database.db);
    expect(await takes(2, { slotMs: HOUR, perSlot: 5, windowSlots: 3, perWindow: 9 })).toEqual([false, false]);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM smtp_send_slots WHERE slot = ${current}`.execute(database.db);
    expect(rows[0]!.n).toBe(0);
  });
});
