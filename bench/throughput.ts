/**
 * First throughput figures for the query path (issue 2): webfilter on loopback against a fast fake
 * upstream, measured with Debian's dnsperf for hot (cache hits), cold (unique names → upstream),
 * blocked (names under blocked social domains) and mixed query files. Run: `npm run bench`.
 * Needs dnsperf (apt-get install dnsperf). Every run is bounded in time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

if (spawnSync('dnsperf', ['-h']).error) {
  console.error('bench: dnsperf is not installed. Install it with: apt-get install dnsperf');
  process.exit(1);
}

const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-bench-'));
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function firstLine(child: ChildProcess, match: (line: string) => string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('timed out waiting for child output')), 15_000);
    child.stdout!.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        const m = match(line);
        if (m !== null) {
          clearTimeout(t);
          resolve(m);
        }
      }
    });
  });
}

const upstream = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/fake-upstream.ts')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(upstream);
const upPort = Number(await firstLine(upstream, (l) => (/^\d+$/.test(l.trim()) ? l.trim() : null)));

const lists = ['facebook', 'instagram', 'twitter-x', 'tiktok', 'youtube'];
writeFileSync(
  path.join(dir, 'bench.yaml'),
  `server: { listen: ["127.0.0.1:0"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
cache: { max_entries: 100000 }
categories:
${lists.map((l) => `  ${l}: [${path.join(ROOT, 'blocklists/social-media', `${l}.txt`)}]`).join('\n')}
groups: { default: { block: [facebook, instagram, twitter-x] } }
database: { path: ${path.join(dir, 'bench.db')} }
metrics: { listen: "127.0.0.1:0" }
log: { level: warn }
`,
);
const daemon = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'serve', '--config', path.join(dir, 'bench.yaml')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(daemon);
// Log level warn hides "listening"; find the port from the socket table instead.
await new Promise((r) => setTimeout(r, 1500));
const ss = spawnSync('ss', ['-lunp'], { encoding: 'utf8' }).stdout;
const port = Number(new RegExp(`127\\.0\\.0\\.1:(\\d+)\\s.*pid=${daemon.pid},`).exec(ss)?.[1]);
if (!port) throw new Error(`could not find the daemon's port:\n${ss}`);

const blockedBases = ['facebook.com', 'fbcdn.net', 'instagram.com', 'cdninstagram.com', 'twimg.com', 'x.com'];
const files: Record<string, string[]> = {
  hot: Array.from({ length: 1000 }, (_, i) => `www.hot${i}.example.org A`),
  cold: Array.from({ length: 400_000 }, (_, i) => `n${i}.cold${i % 977}.example.net A`),
  blocked: Array.from({ length: 1000 }, (_, i) => `a${i}.b.${blockedBases[i % blockedBases.length]} A`),
};
files.mixed = Array.from({ length: 100_000 }, (_, i) =>
  i % 10 < 7 ? files.hot[i % 1000] : i % 10 < 9 ? `m${i}.mixed.example.net A` : files.blocked[i % 1000],
);
for (const [name, lines] of Object.entries(files)) writeFileSync(path.join(dir, `${name}.txt`), lines.join('\n') + '\n');

function dnsperf(file: string): { qps: number; avgMs: number; lost: number } {
  const r = spawnSync(
    'dnsperf',
    [
      '-s',
      '127.0.0.1',
      '-p',
      String(port),
      '-d',
      path.join(dir, `${file}.txt`),
      '-l',
      String(SECONDS),
      '-q',
      '100',
      '-c',
      '4',
      '-t',
      '2',
    ],
    {
      encoding: 'utf8',
      timeout: (SECONDS + 20) * 1000,
    },
  );
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const avgMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN) * 1000;
  const lost = Number(/Queries lost:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
  return { qps, avgMs, lost };
}

// Warm the cache for the hot set, then interleave rounds so drift hits every file alike.
dnsperf('hot');
const results: Record<string, { qps: number; avgMs: number; lost: number }[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const f of ['hot', 'cold', 'blocked', 'mixed']) (results[f] ??= []).push(dnsperf(f));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `\nwebfilter ${new Date().toISOString().slice(0, 10)}, ${ROUNDS} rounds × ${SECONDS} s, dnsperf -q 100 -c 4, loopback`,
);
console.log('file      median qps   avg latency   lost');
for (const [f, rs] of Object.entries(results)) {
  const m = median(rs.map((r) => r.qps));
  console.log(
    `${f.padEnd(9)} ${m.toFixed(0).padStart(10)}   ${median(rs.map((r) => r.avgMs))
      .toFixed(3)
      .padStart(8)} ms   ${rs.reduce((n, r) => n + r.lost, 0)}`,
  );
}
const rss = spawnSync('ps', ['-o', 'rss=', '-p', String(daemon.pid)], { encoding: 'utf8' }).stdout.trim();
console.log(`daemon RSS after the run: ${(Number(rss) / 1024).toFixed(0)} MB`);
process.exit(0);
