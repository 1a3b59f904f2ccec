/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and, with --total, time
 * including callees, as % of the profile. `node --import tsx bench/cpuprofile-top.ts FILE [N] [--total]`
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
  hitCount?: number;
}
const [file, nArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const total = process.argv.includes('--total');
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/|dist\/|node:)/, '$1')}:${n.callFrame.lineNumber + 1}`;
const counts = new Map<string, number>();
for (const s of prof.samples) {
  if (!total) {
    const k = label(byId.get(s)!);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    continue;
  }
  const seen = new Set<string>();
  for (let id: number | undefined = s; id !== undefined; id = parent.get(id)) {
    const k = label(byId.get(id)!);
    if (seen.has(k)) continue;
    seen.add(k);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
}
const n = prof.samples.length;
for (const [k, c] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg ?? 40)))
  console.log(`${((c / n) * 100).toFixed(1).padStart(5)}%  ${k}`);
