/**
 * `npm run soak`: 10 minutes (SOAK_SECONDS) of the mixed query file at a fixed rate (SOAK_QPS,
 * default 2,000/s) against webfilter with a 100,000-domain list, with a SIGHUP reload every 30 s and
 * an exception added every 30 s that expires 20 s later (so exceptions start and end under load).
 * Each 30-second segment reports RSS, p50/p99 latency and lost queries; the drift between the first
 * and the last minute is the result. Writes bench/soak.md. Loopback only; bounded in time.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { socialDomains, writeLists, writeQueries } from './data.js';
import { start, stop, unboundConfig } from './servers.js';
import { dnsperfLatency, median } from './dnsperf.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const QPS = Number(process.env.SOAK_QPS ?? 2000);
const SEGMENT = 30;
const LIST = 100_000;

const missing = ['dnsperf', 'unbound'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t} || test -x /usr/sbin/${t}`]).status !== 0,
);
if (missing.length) {
  console.error(`soak: missing ${missing.join(', ')}. Install: apt-get install dnsperf unbound`);
  process.exit(1);
}

const dir = path.join(ROOT, 'bench/out/soak');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const social = socialDomains(ROOT);
const lists = writeLists(dir, LIST, social);
const queries = writeQueries(dir, LIST, social);

let port = 29000 + Math.floor(Math.random() * 1000);
const upPort = (port += 3);
unboundConfig(path.join(dir, 'upstream.conf'), upPort, { threads: 1, catchAll: true });
const upstream = await start('upstream', upPort, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);

const wfPort = (port += 3);
const metricsPort = (port += 3);
const cfg = path.join(dir, 'webfilter.yaml');
writeFileSync(
  cfg,
  `server: { listen: ["127.0.0.1:${wfPort}"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
categories: { bench: [${lists.list}], facebook: [${path.join(ROOT, 'blocklists/social-media/facebook.txt')}] }
groups: { default: { block: [bench, facebook] } }
database: { path: ${path.join(dir, 'soak.db')} }
metrics: { listen: "127.0.0.1:${metricsPort}" }
log: { level: warn }
`,
);
const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args, '--config', cfg], { encoding: 'utf8', timeout: 30_000 });
const wf = await start('webfilter', wfPort, process.execPath, [path.join(ROOT, 'dist/cli.js'), 'serve', '--config', cfg]);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** A fresh connection per scrape: dnsperf runs synchronously, so a kept-alive socket would go stale unnoticed. */
function scrape(): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: metricsPort, path: '/metrics', agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function metric(name: string): Promise<number> {
  const text = await scrape();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

interface Segment {
  at: number;
  rss: number;
  p50: number;
  p99: number;
  lost: number;
  reloads: number;
  exceptions: number;
}
const segments: Segment[] = [];
const t0 = Date.now();
console.log(
  `soak: ${SECONDS} s at ${QPS} qps, SIGHUP and an exception every ${SEGMENT} s; RSS at start ${rssMb(wf.child.pid!)} MB`,
);
for (let s = 0; (s + 1) * SEGMENT <= SECONDS; s++) {
  wf.child.kill('SIGHUP');
  const add = cli([
    'exception',
    'add',
    '--group',
    'default',
    '--category',
    'facebook',
    '--for',
    '20s',
    '--reason',
    `soak ${s}`,
    '--approved-by',
    'soak',
  ]);
  if (add.status !== 0) throw new Error(`exception add failed: ${add.stderr}`);
  const lat = dnsperfLatency(wfPort, queries.mixed, QPS, SEGMENT);
  const seg: Segment = {
    at: Math.round((Date.now() - t0) / 1000),
    rss: rssMb(wf.child.pid!),
    p50: lat.p50,
    p99: lat.p99,
    lost: lat.lost,
    reloads: await metric('webfilter_config_reload_total{outcome="success"}'),
    exceptions: await metric('webfilter_exceptions_active'),
  };
  segments.push(seg);
  console.log(
    `  ${String(seg.at).padStart(4)} s: RSS ${seg.rss} MB, p50 ${seg.p50.toFixed(3)} ms, p99 ${seg.p99.toFixed(3)} ms, lost ${seg.lost}, reloads ${seg.reloads}, exceptions active ${seg.exceptions}`,
  );
}
const expired = cli(['exception', 'list', '--all', '--json']);
const all = JSON.parse(expired.stdout) as unknown[];
await stop(wf);
await stop(upstream);

const first = segments.slice(0, 2);
const last = segments.slice(-2);
const drift = {
  rss: median(last.map((s) => s.rss)) - median(first.map((s) => s.rss)),
  p99: median(last.map((s) => s.p99)) - median(first.map((s) => s.p99)),
};
const rows = segments.map((s) => `| ${s.at} | ${s.rss} | ${s.p50.toFixed(3)} | ${s.p99.toFixed(3)} | ${s.lost} | ${s.reloads} |`);
const md = `# Soak run

\`npm run soak\`: ${SECONDS} s of the bench's mixed query file at ${QPS} queries/s (dnsperf, loopback; an unbound
upstream answering every name), a ${LIST.toLocaleString('en-GB')}-domain list, a SIGHUP reload every ${SEGMENT} s and an
exception added every ${SEGMENT} s that expires 20 s later (${all.length} exceptions in the audit trail at the end).

**${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.versions.node}.** Shared machine: absolute latencies are noisy.

| t (s) | RSS (MB) | p50 (ms) | p99 (ms) | lost | reloads so far |
|---|---|---|---|---|---|
${rows.join('\n')}

Drift, last minute vs first minute (medians): RSS ${drift.rss >= 0 ? '+' : ''}${drift.rss} MB, p99 ${drift.p99 >= 0 ? '+' : ''}${drift.p99.toFixed(3)} ms.
Lost queries in all: ${segments.reduce((n, s) => n + s.lost, 0)}.
`;
writeFileSync(path.join(ROOT, 'bench/soak.md'), md);
console.log(md);
