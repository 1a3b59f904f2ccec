/**
 * `npm run bench:cname` (and the end of `npm run bench`): what CNAME inspection costs. One webfilter
 * process with the 1M-domain list under dnsperf's mixed load, its upstream answering 3 in 10 hot
 * names with a CNAME (bench/data.ts hotCnames), alternating between blocking.cname_inspection on
 * and off (a SIGHUP reload between arms; the cache is kept), rounds in A B B A order. Reports qps and
 * the daemon's CPU time per answered query. Writes bench/cname-inspection.md.
 *   BENCH_SECONDS (6), BENCH_ROUNDS (4), BENCH_LIST (1000000)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hotCnames, socialDomains, writeLists, writeQueries } from './data.js';
import { start, startWebfilterDaemon, stop, unboundConfig } from './servers.js';
import { dnsperfMax, median } from './dnsperf.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const LIST = Number(process.env.BENCH_LIST ?? 1_000_000);

if (spawnSync('sh', ['-c', 'command -v dnsperf && command -v unbound']).status !== 0) {
  console.error('bench: missing dnsperf or unbound. Install: apt-get install dnsperf unbound');
  process.exit(1);
}

const dir = path.join(ROOT, 'bench/out-cname');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const social = socialDomains(ROOT);
const lists = writeLists(dir, LIST, social);
const queries = writeQueries(dir, LIST, social);

const base = 31000 + Math.floor(Math.random() * 1000);
const [upPort, dnsPort, metricsPort] = [base, base + 3, base + 6];
unboundConfig(path.join(dir, 'upstream.conf'), upPort, { threads: 1, catchAll: true, cnames: hotCnames() });
const upstream = await start('upstream', upPort, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);
const cfg = path.join(dir, 'webfilter.yaml');
const config = (inspect: boolean) =>
  writeFileSync(
    cfg,
    `server: { listen: ["127.0.0.1:${dnsPort}"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
categories: { bench: [${lists.list}] }
groups: { default: { block: [bench] } }
blocking: { cname_inspection: ${inspect} }
database: { path: ${path.join(dir, 'bench.db')} }
metrics: { listen: "127.0.0.1:${metricsPort}" }
log: { level: warn }
`,
  );
config(true);
const wf = await startWebfilterDaemon('webfilter', dnsPort, cfg);

/** GET /metrics on a fresh connection (a pooled one may be closed by the server's keep-alive timeout during a dnsperf run). */
const scrape = () =>
  new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: metricsPort, path: '/metrics', agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
const reloads = async () => Number(/webfilter_config_reload_total\{outcome="success"\} (\d+)/.exec(await scrape())?.[1]);
/** Rewrites the config and reloads it (SIGHUP), waiting until the daemon says it is in use. */
async function switchTo(inspect: boolean): Promise<void> {
  const before = await reloads();
  config(inspect);
  wf.child.kill('SIGHUP');
  for (let i = 0; (await reloads()) === before; i++) {
    if (i > 600) throw new Error('reload did not finish within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ticks = () => {
  const f = readFileSync(`/proc/${wf.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks
};
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
const loadavg = () => os.loadavg()[0].toFixed(2);
const load0 = loadavg();
// Warm the cache (every hot name, aliased or not) and the JIT with a whole mixed run.
dnsperfMax(dnsPort, queries.mixed, SECONDS + 2);
const qps: Record<'on' | 'off', number[]> = { on: [], off: [] };
const cpu: Record<'on' | 'off', number[]> = { on: [], off: [] };
let inspecting = true;
for (let r = 0; r < ROUNDS; r++) {
  for (const want of r % 2 === 0 ? [false, true] : [true, false]) {
    if (want !== inspecting) await switchTo(want);
    inspecting = want;
    const t0 = ticks();
    const run = dnsperfMax(dnsPort, queries.mixed, SECONDS);
    qps[want ? 'on' : 'off'].push(run.qps);
    cpu[want ? 'on' : 'off'].push(((ticks() - t0) * TICK_US) / run.completed);
  }
  process.stdout.write('.');
}
const load1 = loadavg();
await stop(wf);
await stop(upstream);

const fmt = (n: number) => n.toLocaleString('en-GB', { maximumFractionDigits: 0 });
const spread = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
const us = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const [on, off] = [median(qps.on), median(qps.off)];
const [cpuOn, cpuOff] = [median(cpu.on), median(cpu.off)];
const md = `# CNAME inspection: cost

\`npm run bench:cname\` (also run at the end of \`npm run bench\`): one webfilter process with the
${LIST.toLocaleString('en-GB')}-domain list under dnsperf's mixed load (70% cached, 20% upstream, 10% blocked; 100 in flight,
${SECONDS} s per run). Its upstream (unbound) answers 3 in 10 of the hot names with a CNAME to a CDN-like
name, so 21% of all queries are cache hits whose chain is checked. The two arms are
\`blocking.cname_inspection\` on and off in the same process (a SIGHUP reload between them, the cache
kept), ${ROUNDS} rounds in A B B A order. The daemon's CPU time per answered query (utime + stime from
/proc) is much less sensitive than qps to other work on the machine.

**Run: ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}.**
Load average (1 min) ${load0} before, ${load1} after, on ${os.cpus().length} cores: the machine is shared with other work.

| | median mixed qps | qps runs (min–max) | median CPU µs/query | CPU runs (min–max) |
|---|---|---|---|---|
| inspection off | ${fmt(off)} | ${spread(qps.off)} | ${cpuOff.toFixed(1)} | ${us(cpu.off)} |
| inspection on | ${fmt(on)} | ${spread(qps.on)} | ${cpuOn.toFixed(1)} | ${us(cpu.on)} |
| on / off | ${(on / off).toFixed(3)}× | | ${(cpuOn / cpuOff).toFixed(3)}× | |

Target: CNAME inspection costs at most 10% of mixed qps (on/off ≥ 0.90×): **${on / off >= 0.9 ? 'met' : 'not met'}** by qps; CPU per
query ${cpuOn / cpuOff <= 1.1 ? 'within' : 'not within'} 10%.
`;
writeFileSync(path.join(ROOT, 'bench/cname-inspection.md'), md);
console.log(`\n${md}`);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
