/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and, with --total, time
 * including callees, as % of the profile. `node --import tsx bench/cpuprofile-top.ts FILE [N] [--total]`
 * --skip-ms=N leaves out the first N ms (start-up, warming: bench:cost's BENCH_PROFILE writes them to
 * window.json); --parts adds self time by part of the query's path (dgram, parsing, stages, cache,
 * metrics…), as % of the time not idle and, with --queries=N, as µs of sampled time per query;
 * --start adds the sampled ms of a start-up by phase (module loading, config, list compile…; bench:start
 * with BENCH_NODE_FLAGS="… --cpu-prof --cpu-prof-dir=DIR").
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
const prof = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
};
const opt = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
// Keep only the samples after --skip-ms (their time deltas kept alongside).
const skipUs = Number(opt('skip-ms') ?? 0) * 1000;
{
  let t = 0;
  const keep: number[] = [];
  const deltas: number[] = [];
  prof.samples.forEach((s, i) => {
    t += prof.timeDeltas[i];
    if (t < skipUs) return;
    keep.push(s);
    deltas.push(prof.timeDeltas[i]);
  });
  prof.samples = keep;
  prof.timeDeltas = deltas;
}
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

/** The part of the query path a self-time sample belongs to, from its function and script. */
function part(n: Node): string {
  const { functionName: f, url } = n.callFrame;
  if (f === '(idle)' || f === '(garbage collector)' || f === '(program)') return f;
  const dist = /\/dist\/([^/]+)\/([^/]+)\.js$/.exec(url);
  if (dist) {
    const [, dir, file] = dist;
    if (dir === 'server') return `server edge (${file})`;
    if (dir === 'dns') return `DNS wire: parse, reply (${file})`;
    if (dir === 'pipeline') return `pipeline stage (${file})`;
    if (dir === 'metrics' || dir === 'observe') return 'metrics (counts)';
    return `${dir}/`;
  }
  if (/^node:(internal\/)?dgram$/.test(url)) return 'node dgram (receive/send JS)';
  if (url === 'node:events' || url.startsWith('node:internal/')) return 'node internals (events, timers, ticks)';
  if (url === 'node:buffer' || url.startsWith('node:')) return `node ${url.slice(5)}`;
  if (url === '') return `native (${f || 'anonymous'})`;
  if (url.includes('node_modules/')) return url.replace(/^.*node_modules\/([^/]+).*$/, 'npm $1');
  return 'other';
}
if (process.argv.includes('--parts')) {
  const queries = Number(opt('queries') ?? 0);
  const parts = new Map<string, number>();
  let busy = 0;
  prof.samples.forEach((s, i) => {
    const k = part(byId.get(s)!);
    parts.set(k, (parts.get(k) ?? 0) + prof.timeDeltas[i]);
    if (k !== '(idle)') busy += prof.timeDeltas[i];
  });
  console.log(
    `\nby part (self time; % of the ${(busy / 1e6).toFixed(1)} s not idle${queries ? `; µs per query over ${queries}` : ''}):`,
  );
  for (const [k, us] of [...parts].sort((a, b) => b[1] - a[1])) {
    if (k === '(idle)') continue;
    const perQuery = queries ? `  ${(us / queries).toFixed(2).padStart(6)} µs` : '';
    console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}%${perQuery}  ${k}`);
  }
}

/** The start-up phase of a sample, from the functions on its stack. */
function phase(id: number): string {
  const own = byId.get(id)!.callFrame.functionName;
  if (own === '(idle)' || own === '(garbage collector)' || own === '(program)') return own;
  const names = new Set<string>();
  const urls: string[] = [];
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
    names.add(byId.get(x)!.callFrame.functionName);
    urls.push(byId.get(x)!.callFrame.url);
  }
  if (names.has('compilePolicy')) return 'list compile (compilePolicy)';
  if (names.has('loadConfig')) return 'config (loadConfig: yaml, schema)';
  if (urls.some((u) => u.startsWith('node:internal/modules/') || u === 'node:internal/bootstrap/realm'))
    return 'module loading and evaluation';
  if (names.has('startDaemon')) return 'startDaemon, other (bind, threads)';
  return 'other';
}
if (process.argv.includes('--start')) {
  const phases = new Map<string, number>();
  prof.samples.forEach((s, i) => {
    const k = phase(s);
    phases.set(k, (phases.get(k) ?? 0) + prof.timeDeltas[i]);
  });
  console.log('\nby start-up phase (sampled ms):');
  for (const [k, us] of [...phases].sort((a, b) => b[1] - a[1])) console.log(`${(us / 1000).toFixed(0).padStart(6)}  ${k}`);
}
