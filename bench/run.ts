import os from 'node:os';
import { apiBenchmark } from './api.js';
import { authBenchmark } from './auth.js';
import { claimsBenchmark } from './claims.js';
import { deliveryBenchmark } from './delivery.js';
import { lintBenchmark } from './lint.js';
import { inboundBenchmark } from './inbound.js';
import { drainBenchmark, peersBenchmark } from './peers.js';
import { relayLatencyBenchmark } from './relay-latency.js';
import { printClosingTable } from './support.js';
import { sandboxBenchmark } from './sandbox.js';
import { tickBenchmark } from './tick.js';
import { promptnessBenchmark, rateLimitBenchmark } from './worker-processes.js';

// `npm run bench` runs every benchmark; `npm run bench -- delivery` runs the named ones. Each
// prints absolute numbers and a ratio to a baseline measured in the same run.

const suites: Record<string, () => Promise<void>> = {
  relay: relayLatencyBenchmark,
  peers: peersBenchmark,
  drain: drainBenchmark,
  promptness: promptnessBenchmark,
  'rate-limit': rateLimitBenchmark,
  delivery: deliveryBenchmark,
  api: apiBenchmark,
  auth: authBenchmark,
  tick: tickBenchmark,
  lint: lintBenchmark,
  inbound: inboundBenchmark,
  claims: claimsBenchmark,
  sandbox: sandboxBenchmark,
};

/** Run only when named: the drain alone is for profiling (`--cpu-prof`), and peers measures it too. */
const ON_REQUEST = new Set(['drain']);

const failed: string[] = [];
const chosen = process.argv.slice(2).filter((name) => !name.startsWith('-'));
for (const name of chosen.length > 0 ? chosen : Object.keys(suites).filter((name) => !ON_REQUEST.has(name))) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  const started = performance.now();
  // One suite's failure (a statement timeout on a starved machine, say) is reported, and the
  // others still run and the closing table still prints; the run then exits non-zero.
  try {
    await suite();
  } catch (error) {
    failed.push(name);
    console.error(`benchmark ${name} failed:`, error);
  }
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
// One table for the whole run, with the host's load while it ran (2 cores, shared).
printClosingTable();
console.log(`load average (1, 5, 15 min): ${os.loadavg().map((load) => load.toFixed(2)).join(', ')}`);
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
