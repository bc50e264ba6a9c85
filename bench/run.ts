import { apiBenchmark } from './api.js';
import { authBenchmark } from './auth.js';
import { deliveryBenchmark } from './delivery.js';
import { lintBenchmark } from './lint.js';
import { inboundBenchmark } from './inbound.js';
import { sandboxBenchmark } from './sandbox.js';
import { tickBenchmark } from './tick.js';

// `npm run bench` runs every benchmark; `npm run bench -- delivery` runs the named ones. Each
// prints absolute numbers and a ratio to a baseline measured in the same run.

const suites: Record<string, () => Promise<void>> = {
  delivery: deliveryBenchmark,
  api: apiBenchmark,
  auth: authBenchmark,
  tick: tickBenchmark,
  lint: lintBenchmark,
  inbound: inboundBenchmark,
  sandbox: sandboxBenchmark,
};

const chosen = process.argv.slice(2).filter((name) => !name.startsWith('-'));
for (const name of chosen.length > 0 ? chosen : Object.keys(suites)) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  await suite();
}
