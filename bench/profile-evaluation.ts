import { sql } from 'kysely';
import pino from 'pino';
import { createEnglishSpellChecker } from '../src/services/spell-checker.js';
import { drainDueSteps } from '../src/worker/tick.js';
import { createBenchDatabase, seedThankYouSteps } from './support.js';

// A profiling harness for the worker's evaluation path: node --cpu-prof --import tsx bench/profile-evaluation.ts
const database = await createBenchDatabase();
const spell = createEnglishSpellChecker();
try {
  await seedThankYouSteps(database.db, { interviews: 2500, interviewersPerInterview: 2, dueAt: new Date(Date.now() - 1000) });
  await sql`ANALYZE`.execute(database.db);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const settings = { batchSize: 200, leaseMs: 120_000, sendConcurrency: 10 };
  const evaluated = await drainDueSteps({ db: database.db, spell, clock: () => new Date(), log: pino({ level: 'silent' }), settings }, new AbortController().signal);
  const used = process.cpuUsage(cpu);
  console.log(`${evaluated} steps in ${Math.round(performance.now() - start)} ms, node cpu ${Math.round((used.user + used.system) / 1000)} ms`);
} finally {
  await database.drop();
}
