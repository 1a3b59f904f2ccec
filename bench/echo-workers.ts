/**
 * `npm run bench:echo-workers`: what more processes can gain a Node UDP server on this machine — the
 * bare echo server (bench/echo-server.ts) as 1 process and as N node:cluster workers sharing one
 * socket, compared by max qps (dnsperf, 100 in flight) and CPU per query, interleaved 1 N / N 1 in
 * each round. The echo server does no work per query beyond the socket calls, so its gain from a
 * second process bounds what `server.workers` could gain webfilter here.
 *   BENCH_ROUNDS (3); BENCH_SECONDS per run (5); ECHO_WORKERS_N (2)
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dnsperfMax, median } from './dnsperf.js';
import { cpuTicks, processTree, TICK_US } from './proc.js';
import { start, stop } from './servers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const N = Number(process.env.ECHO_WORKERS_N ?? 2);

const file = path.join(os.tmpdir(), `echo-workers-${process.pid}.txt`);
writeFileSync(file, Array.from({ length: 1000 }, (_, i) => `www.hot${i}.example.org A`).join('\n') + '\n');

const results: Record<string, { qps: number[]; us: number[] }> = { '1': { qps: [], us: [] }, [N]: { qps: [], us: [] } };
let port = 33000 + Math.floor(Math.random() * 2000);
const load0 = os.loadavg()[0];
for (let round = 0; round < ROUNDS; round++) {
  for (const w of round % 2 === 0 ? [1, N] : [N, 1]) {
    const p = (port += 2);
    process.env.ECHO_WORKERS = String(w); // read by bench/echo-server.ts
    const s = await start(
      `echo-${w}`,
      p,
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bench/echo-server.ts'), String(p)],
      30_000,
    );
    const pids = processTree(s.child.pid!);
    const t0 = cpuTicks(pids);
    const r = dnsperfMax(p, file, SECONDS);
    const us = ((cpuTicks(pids) - t0) * TICK_US) / r.completed;
    await stop(s);
    results[w].qps.push(r.qps);
    results[w].us.push(us);
    console.log(`round ${round + 1}: ${w} process(es): ${Math.round(r.qps)} qps, ${us.toFixed(1)} us CPU/query, lost ${r.lost}`);
  }
}
const load1 = os.loadavg()[0];
console.log(
  `median: 1 process ${Math.round(median(results['1'].qps))} qps (${median(results['1'].us).toFixed(1)} us); ` +
    `${N} workers ${Math.round(median(results[N].qps))} qps (${median(results[N].us).toFixed(1)} us); ` +
    `ratio ${(median(results[N].qps) / median(results['1'].qps)).toFixed(2)}x; load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after; ${os.cpus().length} cores`,
);
