import { readFileSync } from 'node:fs';

// Prints the functions with the most self time in a V8 CPU profile (what `node --cpu-prof`
// writes), with where they live, and then those with the most total time (callees included)
// among our own code: `npx tsx bench/cpu-profile-summary.ts /tmp/x.cpuprofile [top]`.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArgument] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpu-profile-summary <file.cpuprofile> [how many]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
// Self time per sample: the time until the next sample, charged to the function on top of the stack.
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const keyOf = (id: number) => {
  const frame = nodeById.get(id)!.callFrame;
  const where = frame.url ? `${frame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}  ${where}`;
};
const selfUs = new Map<string, number>();
const totalUsOf = new Map<string, number>();
let totalUs = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index + 1] ?? 0;
  selfUs.set(keyOf(id), (selfUs.get(keyOf(id)) ?? 0) + delta);
  totalUs += delta;
  // Total time: each function on the sample's stack, once (recursion counts once).
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) seen.add(keyOf(at));
  for (const key of seen) totalUsOf.set(key, (totalUsOf.get(key) ?? 0) + delta);
});
const how = Number(topArgument ?? 30);
const print = (title: string, entries: Array<[string, number]>) => {
  console.log(title);
  for (const [key, us] of entries) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${key}`);
};
console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled`);
print('self time', [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, how));
print(
  'total time, our code (src/)',
  [...totalUsOf.entries()].filter(([key]) => key.includes('src/')).sort((a, b) => b[1] - a[1]).slice(0, how),
);
