/**
 * `npm run bench`: webfilter against Debian's dnsmasq and unbound and a bare Node dgram echo server
 * (the ceiling), all on loopback with the same 1M-domain list and the same upstream (unbound
 * answering everything), measured with dnsperf. Prints one table with ratios; writes
 * bench/README.md's tables and bench/scaling.svg. Every run is bounded in time.
 *   BENCH_SECONDS (6), BENCH_ROUNDS (2), BENCH_LIST (1000000), BENCH_SCALING (1 = on)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hotCnames, socialDomains, writeLists, writeQueries } from './data.js';
import { start, startWebfilterDaemon, stop, unboundConfig, type Running } from './servers.js';
import { peakRssTreeMb } from './proc.js';
import { dnsperfLatency, dnsperfMax, median } from './dnsperf.js';
import { writeReport } from './report.js';
import { runEncryptedBench } from './encrypted.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LIST = Number(process.env.BENCH_LIST ?? 1_000_000);
const SCALING = process.env.BENCH_SCALING !== '0';

const missing = ['dnsperf', 'dnsmasq', 'unbound'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t} || test -x /usr/sbin/${t}`]).status !== 0,
);
if (missing.length) {
  console.error(`bench: missing ${missing.join(', ')}. Install: apt-get install dnsperf dnsmasq unbound`);
  process.exit(1);
}
if (spawnSync('test', ['-f', path.join(ROOT, 'dist/cli.js')]).status !== 0) {
  console.error('bench: build first (npm run bench does)');
  process.exit(1);
}

const dir = path.join(ROOT, 'bench/out');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const t0 = Date.now();
const social = socialDomains(ROOT);
const lists = writeLists(dir, LIST, social);
const queries = writeQueries(dir, LIST, social);
console.log(
  `data: ${LIST.toLocaleString()} listed domains + ${social.length} social, query files ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);

let port = 26000 + Math.floor(Math.random() * 2000);
const nextPort = () => (port += 3);

// The shared upstream.
const upPort = nextPort();
unboundConfig(path.join(dir, 'upstream.conf'), upPort, { threads: 1, catchAll: true, cnames: hotCnames() });
const upstream = await start('upstream', upPort, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);

async function startWebfilter(list: string, cacheSize = 100_000, tag = ''): Promise<Running> {
  const p = nextPort();
  const cfg = path.join(dir, `webfilter${tag}.yaml`);
  writeFileSync(
    cfg,
    `server: { listen: ["127.0.0.1:${p}"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
cache: { max_entries: ${cacheSize} }
categories: { bench: [${list}] }
groups: { default: { block: [bench] } }
database: { path: ${path.join(dir, `bench${tag}.db`)} }
metrics: { listen: "127.0.0.1:0" }
log: { level: warn }
`,
  );
  return startWebfilterDaemon('webfilter', p, cfg);
}

async function startDnsmasq(conf: string): Promise<Running> {
  const p = nextPort();
  return start('dnsmasq', p, 'dnsmasq', [
    '--keep-in-foreground',
    `--port=${p}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--server=127.0.0.1#${upPort}`,
    '--cache-size=10000',
    `--conf-file=${conf}`,
    '--user=root',
    '--pid-file=',
  ]);
}

async function startUnbound(zones: string): Promise<Running> {
  const p = nextPort();
  unboundConfig(path.join(dir, `unbound-${p}.conf`), p, { threads: 2, forwardTo: upPort, zonesFile: zones });
  return start('unbound', p, 'unbound', ['-d', '-c', path.join(dir, `unbound-${p}.conf`)]);
}

async function startEcho(): Promise<Running> {
  const p = nextPort();
  return start('echo', p, process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/echo-server.ts'), String(p)]);
}

const servers: Running[] = [
  await startWebfilter(lists.list),
  await startDnsmasq(lists.dnsmasq),
  await startUnbound(lists.unbound),
  await startEcho(),
];
for (const s of servers) console.log(`${s.name}: first answer after ${s.startupMs} ms`);

const files = ['hot', 'cold', 'blocked', 'mixed'] as const;
const qps: Record<string, Record<string, number[]>> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const f of files) {
    for (const s of servers) {
      if (s.name === 'echo' && f !== 'hot') continue;
      if (r === 0 && f === 'hot') dnsperfMax(s.port, queries.hot, 2); // warm the caches
      ((qps[s.name] ??= {})[f] ??= []).push(dnsperfMax(s.port, queries[f], SECONDS).qps);
      process.stdout.write('.');
    }
  }
}
console.log('');
const latency: Record<string, { p50: number; p99: number; p999: number; lost: number }> = {};
for (const s of servers.filter((x) => x.name !== 'echo')) latency[s.name] = dnsperfLatency(s.port, queries.mixed, 5000, 5);
const rss: Record<string, number> = {};
// Every process of a server (webfilter's DNS workers with server.workers), each at its own peak.
for (const s of servers) rss[s.name] = peakRssTreeMb(s.child.pid!).total;
for (const s of servers) await stop(s);

const results = {
  date: new Date().toISOString().slice(0, 10),
  machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`,
  settings: { seconds: SECONDS, rounds: ROUNDS, list: LIST },
  qps: Object.fromEntries(
    Object.entries(qps).map(([n, byFile]) => [n, Object.fromEntries(Object.entries(byFile).map(([f, xs]) => [f, median(xs)]))]),
  ),
  latency,
  startup: Object.fromEntries(servers.map((s) => [s.name, s.startupMs])),
  rss,
  scaling: [] as { list: number; cache: number; qps: number; rssMb: number; startupMs: number }[],
};

if (SCALING) {
  const sizes = [1000, 100_000, 1_000_000, 3_000_000];
  for (const size of sizes) {
    const l = size === LIST ? lists : writeLists(dir, size, social);
    const w = await startWebfilter(l.list, 100_000, `-${size}`);
    const q = median([dnsperfMax(w.port, queries.mixed, 4).qps, dnsperfMax(w.port, queries.mixed, 4).qps]);
    results.scaling.push({
      list: size,
      cache: 100_000,
      qps: q,
      rssMb: peakRssTreeMb(w.child.pid!).total,
      startupMs: w.startupMs,
    });
    await stop(w);
    process.stdout.write('*');
  }
  for (const cache of [1000, 10_000]) {
    const w = await startWebfilter(lists.list, cache, `-c${cache}`);
    const q = median([dnsperfMax(w.port, queries.mixed, 4).qps, dnsperfMax(w.port, queries.mixed, 4).qps]);
    results.scaling.push({ list: LIST, cache, qps: q, rssMb: peakRssTreeMb(w.child.pid!).total, startupMs: w.startupMs });
    await stop(w);
    process.stdout.write('*');
  }
  console.log('');
}
await stop(upstream);
console.log(writeReport(results, path.join(ROOT, 'bench')));
// A separate run: forwarding over DNS over TLS/HTTPS against plain UDP (bench/encrypted.md).
const enc = await runEncryptedBench(SECONDS, Math.max(3, ROUNDS));
console.log(
  `encrypted upstreams, cold qps: plain ${Math.round(enc.median.plain)}, DoT ${Math.round(enc.median.dot)} (${(enc.median.dot / enc.median.plain).toFixed(2)}×), DoH ${Math.round(enc.median.doh)} — bench/encrypted.md`,
);
console.log(`bench took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exit(0);
