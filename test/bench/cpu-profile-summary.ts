/**
 * `tsx test/bench/cpu-profile-summary.ts <dir|file.cpuprofile> [top]`: self time of V8 CPU profiles
 * (node --cpu-prof) by function and by package, largest first, so a transfer's CPU can be
 * attributed to code rather than guessed. Idle and GC are shown as their own lines.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const target = process.argv[2];
const top = Number(process.argv[3] ?? 25);
if (!target) throw new Error('usage: cpu-profile-summary.ts <dir|file.cpuprofile> [top]');
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(target, f))
  : [target];

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    const f = nodes.get(id)!.callFrame;
    const where = f.url
      .replace(/^file:\/\//, '')
      .replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
      .replace(/.*\/(services|packages|test)\//, '$1/');
    const pkg =
      f.url === ''
        ? `(${f.functionName || 'native'})`
        : f.url.startsWith('node:')
          ? 'node core'
          : (/node_modules\/\.pnpm\/[^/]+\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(f.url)?.[1] ?? where.split('/').slice(0, 3).join('/'));
    const fn = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    total += us;
  });
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (self ms, % of ${Math.round(total / 1000)} ms sampled in ${files.length} profile(s))`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / 1000).toFixed(0).padStart(8)}  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
show('by package', byPackage);
show('by function', byFunction);
