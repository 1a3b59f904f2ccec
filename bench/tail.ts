/**
 * `npm run bench:tail`: webfilter's latency tail at a fixed moderate load — p50, p99 and p99.9 at
 * 5,000 qps of the mixed file (70 % cached, 20 % upstream, 10 % blocked), 1M-domain list — with
 * what the DNS thread did meanwhile: garbage-collection pauses (node --trace-gc) and event-loop delay
 * (perf_hooks, 1 ms resolution); then peak RSS (VmHWM summed over the daemon's processes) after a
 * saturation run; and in the same rounds the bare Node echo server at the same rate (the bound: what
 * this machine and a Node event loop give with none of webfilter's work). Writes bench/tail.md.
 *   BENCH_LIST (1,000,000); BENCH_ROUNDS (3); BENCH_SECONDS per latency run (10);
 *   BENCH_NODE_FLAGS the daemon's node flags, space-separated (default: those it ships with,
 *   DAEMON_NODE_FLAGS in bench/servers.ts; "" for none, e.g. "--max-semi-space-size=4" to try another);
 *   BENCH_CLI (dist/cli.js); BENCH_WORKERS (server.workers);
 *   BENCH_ALLOC=1: instead of the delay monitor, V8's sampling heap profiler (every allocation
 *   sampled, collected ones included) over one round, summarised as bytes allocated per query by
 *   function — what drives the young-generation collections behind the tail.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hotCnames, socialDomains, writeLists, writeQueries } from './data.js';
import { dnsperfLatency, dnsperfMax, median } from './dnsperf.js';
import { peakRssTreeMb, processTree } from './proc.js';
import { DAEMON_NODE_FLAGS, firstAnswer, start, stop, unboundConfig } from './servers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIST = Number(process.env.BENCH_LIST ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FLAGS = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? DAEMON_NODE_FLAGS;
const CLI = path.resolve(ROOT, process.env.BENCH_CLI ?? 'dist/cli.js');
const WORKERS = process.env.BENCH_WORKERS;

const dir = path.join(ROOT, 'bench/out-tail');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const social = socialDomains(ROOT);
const lists = writeLists(dir, LIST, social);
const queries = writeQueries(dir, LIST, social);

// Event-loop delay, printed (and reset) on SIGUSR2, as one line on stderr.
const eld = path.join(dir, 'eld.mjs');
writeFileSync(
  eld,
  `import { monitorEventLoopDelay } from 'node:perf_hooks';
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
process.on('SIGUSR2', () => {
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.stderr.write('ELD ' + JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max) }) + '\\n');
  h.reset();
});
`,
);

const ALLOC = process.env.BENCH_ALLOC === '1';
const allocOut = path.join(dir, 'alloc.heapprofile');
const alloc = path.join(dir, 'alloc.mjs');
writeFileSync(
  alloc,
  `import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
const s = new Session();
s.connect();
let on = false;
process.on('SIGUSR2', () => {
  if (!on) {
    on = true;
    s.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true }, () => process.stderr.write('ELD {}\\n'));
  } else {
    s.post('HeapProfiler.stopSampling', (e, r) => { writeFileSync(${JSON.stringify(allocOut)}, JSON.stringify(r.profile)); process.stderr.write('ELD {}\\n'); });
  }
});
`,
);

let port = 36000 + Math.floor(Math.random() * 2000);
const upPort = (port += 3);
unboundConfig(path.join(dir, 'upstream.conf'), upPort, { threads: 1, catchAll: true, cnames: hotCnames() });
const upstream = await start('upstream', upPort, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);
// The bound: Node's bare dgram echo server at the same rate, in the same rounds (what the machine,
// its scheduler and a Node event loop give without any of webfilter's work).
const echoPort = (port += 3);
const echo = await start('echo', echoPort, process.execPath, [
  '--import',
  'tsx',
  path.join(ROOT, 'bench/echo-server.ts'),
  String(echoPort),
]);

const p = (port += 3);
const cfg = path.join(dir, 'webfilter.yaml');
writeFileSync(
  cfg,
  `server: { listen: ["127.0.0.1:${p}"], allowed_clients: [127.0.0.0/8]${WORKERS ? `, workers: ${WORKERS}` : ''} }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
cache: { max_entries: 100000 }
categories: { bench: [${lists.list}] }
groups: { default: { block: [bench] } }
database: { path: ${path.join(dir, 'tail.db')} }
metrics: { listen: "127.0.0.1:0" }
log: { level: warn }
`,
);
const t0 = Date.now();
const child = spawn(process.execPath, ['--trace-gc', '--import', ALLOC ? alloc : eld, ...FLAGS, CLI, 'serve', '--config', cfg], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
process.on('exit', () => child.kill('SIGKILL'));
let out = '';
let err = '';
child.stdout!.on('data', (d) => (out += d));
child.stderr!.on('data', (d) => (err += d));
const startupMs = await firstAnswer(p, 120_000, t0);
console.log(`webfilter: first answer after ${startupMs} ms`);

/** GC events in `text` (--trace-gc lines): count and pauses (ms) by kind. */
function gcStats(text: string): {
  scavenges: number;
  scavengeMs: number;
  maxScavenge: number;
  majors: number;
  majorMs: number;
  maxMajor: number;
} {
  const r = { scavenges: 0, scavengeMs: 0, maxScavenge: 0, majors: 0, majorMs: 0, maxMajor: 0 };
  for (const m of text.matchAll(
    /ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Mark-Compact \(reduce\))[^,]*, ([\d.]+) \/ [\d.]+ ms/g,
  )) {
    const ms = Number(m[2]);
    if (m[1] === 'Scavenge' || m[1].startsWith('Minor')) {
      r.scavenges++;
      r.scavengeMs += ms;
      r.maxScavenge = Math.max(r.maxScavenge, ms);
    } else {
      r.majors++;
      r.majorMs += ms;
      r.maxMajor = Math.max(r.maxMajor, ms);
    }
  }
  return r;
}

async function eldNow(): Promise<Record<string, number>> {
  const before = err.length;
  child.kill('SIGUSR2');
  for (let i = 0; i < 200 && !err.slice(before).includes('\n'); i++) await new Promise((r) => setTimeout(r, 10));
  const line = /ELD (\{.*\})/.exec(err.slice(before));
  return line ? JSON.parse(line[1]) : {};
}

// Warm: the hot names cached, the JIT settled.
dnsperfLatency(p, queries.mixed, 5000, 4);
const load0 = os.loadavg()[0];
const rounds: {
  p50: number;
  p99: number;
  p999: number;
  lost: number;
  eld: Record<string, number>;
  gc: ReturnType<typeof gcStats>;
  echo: { p50: number; p99: number; p999: number };
}[] = [];
for (let r = 0; r < (ALLOC ? 0 : ROUNDS); r++) {
  await eldNow();
  const from = out.length;
  const lat = dnsperfLatency(p, queries.mixed, 5000, SECONDS);
  const eldStats = await eldNow();
  const echoLat = dnsperfLatency(echoPort, queries.mixed, 5000, SECONDS);
  rounds.push({ ...lat, eld: eldStats, gc: gcStats(out.slice(from)), echo: echoLat });
  console.log(
    `round ${r + 1}: p50 ${lat.p50.toFixed(2)} p99 ${lat.p99.toFixed(2)} p99.9 ${lat.p999.toFixed(2)} ms, lost ${lat.lost}; event loop delay ${JSON.stringify(eldStats)}; gc ${JSON.stringify(rounds[r].gc)}; echo server p50 ${echoLat.p50.toFixed(2)} p99 ${echoLat.p99.toFixed(2)} p99.9 ${echoLat.p999.toFixed(2)} ms`,
  );
}
if (ALLOC) {
  // One more round, sampled: every allocation (collected or not) by the function that made it.
  await eldNow();
  dnsperfLatency(p, queries.mixed, 5000, SECONDS);
  await eldNow();
  for (let i = 0; i < 300 && !existsSync(allocOut); i++) await new Promise((r) => setTimeout(r, 20));
  type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] };
  const bySite = new Map<string, number>();
  const walk = (n: Node) => {
    const f = n.callFrame;
    const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:')}:${f.lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
    n.children.forEach(walk);
  };
  walk((JSON.parse(readFileSync(allocOut, 'utf8')) as { head: Node }).head);
  const queriesSent = 5000 * SECONDS;
  const total = [...bySite.values()].reduce((a, b) => a + b, 0);
  console.log(`allocated per query: ${(total / queriesSent).toFixed(0)} bytes (sampled); top sites:`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(
      `  ${(bytes / queriesSent).toFixed(0).padStart(6)} B  ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${site}`,
    );
}
const sat = dnsperfMax(p, queries.mixed, SECONDS);
const rss = peakRssTreeMb(child.pid!);
const load1 = os.loadavg()[0];
console.log(
  `saturation: ${Math.round(sat.qps)} qps; peak RSS ${rss.total.toFixed(0)} MB (${rss.each.map((x) => x.toFixed(0)).join(' + ')}) over ${processTree(child.pid!).length} processes`,
);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
await stop(upstream);
await stop(echo);

const med = (f: (x: (typeof rounds)[number]) => number) => median(rounds.map(f));
const report = `# Latency tail and memory

\`npm run bench:tail\`: ${LIST.toLocaleString('en-GB')}-domain list, mixed file at 5,000 qps, ${SECONDS} s per round, medians of ${ROUNDS} rounds;
the daemon runs with \`--trace-gc\` and an event-loop delay monitor${FLAGS.length ? `, node flags \`${FLAGS.join(' ')}\`` : ''}${WORKERS ? `, server.workers: ${WORKERS}` : ''}.

**Run: ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.versions.node}; load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after.**

| | value |
|---|---|
| p50 / p99 / p99.9 (ms) | ${med((x) => x.p50).toFixed(2)} / ${med((x) => x.p99).toFixed(2)} / ${med((x) => x.p999).toFixed(2)} |
| Node echo server, same rounds: p50 / p99 / p99.9 (ms) | ${rounds.length ? `${med((x) => x.echo.p50).toFixed(2)} / ${med((x) => x.echo.p99).toFixed(2)} / ${med((x) => x.echo.p999).toFixed(2)}` : '—'} |
| event-loop delay p99 / p99.9 / max (ms) | ${med((x) => x.eld.p99)} / ${med((x) => x.eld.p999)} / ${med((x) => x.eld.max)} |
| scavenges per round, total / longest pause (ms) | ${med((x) => x.gc.scavenges)}, ${med((x) => x.gc.scavengeMs).toFixed(1)} / ${med((x) => x.gc.maxScavenge).toFixed(2)} |
| major GCs per round, total / longest pause (ms) | ${med((x) => x.gc.majors)}, ${med((x) => x.gc.majorMs).toFixed(1)} / ${med((x) => x.gc.maxMajor).toFixed(2)} |
| saturation (mixed, max qps) | ${Math.round(sat.qps).toLocaleString('en-GB')} |
| peak RSS, VmHWM summed (MB) | ${rss.total.toFixed(0)} (${rss.each.map((x) => x.toFixed(0)).join(' + ')}) |
| start to first answer (s) | ${(startupMs / 1000).toFixed(1)} |
`;
if (!ALLOC) writeFileSync(path.join(ROOT, 'bench/tail.md'), report);
console.log(report);
