/**
 * `npm run bench:mem`: where webfilter's peak resident memory goes under the bench's own workload
 * (1M-domain list, cache 100,000, the hot/cold/blocked/mixed files at full speed for
 * BENCH_SECONDS each × BENCH_ROUNDS, then the 5,000 qps mixed latency run, as `npm run bench` does):
 * VmRSS and VmHWM (summed over the daemon's processes) after start and after each phase, with
 * V8's heap spaces, external and ArrayBuffer memory from inside the daemon (printed on SIGUSR2).
 *   BENCH_LIST (1,000,000); BENCH_SECONDS (6); BENCH_ROUNDS (2); BENCH_CLI (dist/cli.js);
 *   BENCH_NODE_FLAGS the daemon's node flags, space-separated (default: those it ships with,
 *   DAEMON_NODE_FLAGS in bench/servers.ts; "" for none).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hotCnames, socialDomains, writeLists, writeQueries } from './data.js';
import { dnsperfLatency, dnsperfMax } from './dnsperf.js';
import { processTree, statusKb } from './proc.js';
import { DAEMON_NODE_FLAGS, firstAnswer, start, stop, unboundConfig } from './servers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIST = Number(process.env.BENCH_LIST ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const FLAGS = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? DAEMON_NODE_FLAGS;
const CLI = path.resolve(ROOT, process.env.BENCH_CLI ?? 'dist/cli.js');

const dir = path.join(ROOT, 'bench/out-mem');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const social = socialDomains(ROOT);
const lists = writeLists(dir, LIST, social);
const queries = writeQueries(dir, LIST, social);

const probe = path.join(dir, 'heap.mjs');
writeFileSync(
  probe,
  `import v8 from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';
if (!isMainThread && process.env.BENCH_MEM_THREADS) setInterval(() => { const m = process.memoryUsage(); process.stderr.write('THREAD ' + threadId + ' heapTotal ' + Math.round(m.heapTotal / 1048576) + ' heapUsed ' + Math.round(m.heapUsed / 1048576) + ' rss ' + Math.round(m.rss / 1048576) + '\\n'); }, 1000).unref();
if (!isMainThread && process.env.BENCH_MEM_SNAP) { const { existsSync } = await import('node:fs'); let taken = false; setInterval(() => { if (!taken && existsSync(process.env.BENCH_MEM_SNAP + '.now')) { taken = true; v8.writeHeapSnapshot(process.env.BENCH_MEM_SNAP + '-' + threadId + '.heapsnapshot'); } }, 200).unref(); }
if (isMainThread) process.on('SIGUSR2', () => {
  const mb = (n) => Math.round(n / 1048576 * 10) / 10;
  if (process.env.BENCH_MEM_GC && globalThis.gc) globalThis.gc();
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace('_space', ''), mb(s.space_size) + '/' + mb(s.space_used_size)]));
  process.stderr.write('HEAP ' + JSON.stringify({ rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), spaces }) + '\\n');
});
`,
);

let port = 38000 + Math.floor(Math.random() * 2000);
const upPort = (port += 3);
unboundConfig(path.join(dir, 'upstream.conf'), upPort, { threads: 1, catchAll: true, cnames: hotCnames() });
const upstream = await start('upstream', upPort, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);
const p = (port += 3);
const cfg = path.join(dir, 'webfilter.yaml');
writeFileSync(
  cfg,
  `server: { listen: ["127.0.0.1:${p}"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
cache: { max_entries: 100000 }
categories: { bench: [${lists.list}] }
groups: { default: { block: [bench] } }
database: { path: ${path.join(dir, 'mem.db')} }
metrics: { listen: "127.0.0.1:0" }
log: { level: warn }
`,
);
const t0 = Date.now();
const child = spawn(process.execPath, ['--import', probe, ...FLAGS, CLI, 'serve', '--config', cfg], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
process.on('exit', () => child.kill('SIGKILL'));
let err = '';
child.stderr!.on('data', (d) => (err += d));
const startupMs = await firstAnswer(p, 120_000, t0);

const rows: string[] = [];
async function report(phase: string): Promise<void> {
  const pids = processTree(child.pid!);
  const hwm = pids.map((x) => statusKb(x, 'VmHWM') / 1024);
  const rss = pids.map((x) => statusKb(x, 'VmRSS') / 1024);
  const before = err.length;
  child.kill('SIGUSR2');
  for (let i = 0; i < 100 && !err.slice(before).includes('\n'); i++) await new Promise((r) => setTimeout(r, 20));
  const heap = /HEAP (.*)/.exec(err.slice(before))?.[1] ?? '';
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0).toFixed(0);
  const line = `${phase}: VmHWM ${sum(hwm)} MB, VmRSS ${sum(rss)} MB (${pids.length} processes) ${heap}`;
  rows.push(line);
  console.log(line);
}
console.log(`first answer after ${startupMs} ms`);
await report('started');
for (let r = 0; r < ROUNDS; r++) {
  for (const f of ['hot', 'cold', 'blocked', 'mixed'] as const) {
    if (r === 0 && f === 'hot') dnsperfMax(p, queries.hot, 2);
    const q = dnsperfMax(p, queries[f], SECONDS).qps;
    await report(`round ${r + 1} ${f} (${Math.round(q)} qps)`);
  }
}
dnsperfLatency(p, queries.mixed, 5000, 5);
await report('latency run');
if (process.env.BENCH_MEM_SNAP) {
  writeFileSync(process.env.BENCH_MEM_SNAP + '.now', '');
  await new Promise((r) => setTimeout(r, 20000));
}
// The largest resident mappings (V8 spaces, malloc arenas, SQLite) and the threads.
const smaps = readFileSync(`/proc/${child.pid}/smaps`, 'utf8').split('\n');
const maps: { name: string; size: number; rss: number }[] = [];
for (const l of smaps) {
  const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
  if (head) maps.push({ name: head[3] || '[anon]', size: (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1024, rss: 0 });
  const r = /^Rss:\s+(\d+) kB/.exec(l);
  if (r) maps[maps.length - 1].rss = Number(r[1]);
}
const byName = new Map<string, number>();
for (const m of maps) byName.set(m.name, (byName.get(m.name) ?? 0) + m.rss);
console.log(
  'resident by mapping name (MB):',
  [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([n, k]) => `${n} ${(k / 1024).toFixed(1)}`)
    .join(', '),
);
console.log(
  'largest resident mappings (MB, size/rss):',
  maps
    .sort((a, b) => b.rss - a.rss)
    .slice(0, 25)
    .map((m) => `${(m.size / 1024).toFixed(0)}/${(m.rss / 1024).toFixed(1)}`)
    .join(' '),
);
console.log(
  'threads:',
  readdirSync(`/proc/${child.pid}/task`)
    .map((t) => readFileSync(`/proc/${child.pid}/task/${t}/comm`, 'utf8').trim())
    .join(', '),
);
if (process.env.BENCH_MEM_THREADS)
  console.log(
    err
      .split('\n')
      .filter((l) => l.startsWith('THREAD'))
      .join('\n'),
  );
child.kill('SIGTERM');
await stop(upstream);
process.exit(0);
