/**
 * `npm run bench:identity` (and the end of `npm run bench`): the hot-path cost of the identity map.
 * One webfilter process, mixed dnsperf load, alternating between no mappings and 50,000 mappings
 * (loaded and removed through the real feed), so the two arms run back to back on the same process
 * and the same machine state. The querying address (127.0.0.1) is itself mapped, to a user whose
 * group has the same policy, so the B arm pays the full lookup and derivation on every query.
 * Writes bench/identity.md.   BENCH_SECONDS (6), BENCH_ROUNDS (3), BENCH_LIST (1000000), BENCH_MAPPINGS (50000)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { configSchema } from '../src/config/schema.js';
import { parseAddressKey } from '../src/identity/address-key.js';
import { IdentityService } from '../src/identity/identity-service.js';
import { clientStage } from '../src/pipeline/client-stage.js';
import type { QueryContext } from '../src/pipeline/types.js';
import { ClientDirectory } from '../src/policy/clients.js';
import type { CompiledGroup } from '../src/policy/policy.js';
import { socialDomains, writeLists, writeQueries } from './data.js';
import { start, startWebfilterDaemon, stop, unboundConfig } from './servers.js';
import { dnsperfMax, median } from './dnsperf.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const LIST = Number(process.env.BENCH_LIST ?? 1_000_000);
const MAPPINGS = Number(process.env.BENCH_MAPPINGS ?? 50_000);
const TOKEN = 'bench-identity-token-0123456789';

if (spawnSync('sh', ['-c', 'command -v dnsperf && command -v unbound']).status !== 0) {
  console.error('bench: missing dnsperf or unbound. Install: apt-get install dnsperf unbound');
  process.exit(1);
}

const dir = path.join(ROOT, 'bench/out-identity');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const social = socialDomains(ROOT);
const lists = writeLists(dir, LIST, social);
const queries = writeQueries(dir, LIST, social);

const base = 29000 + Math.floor(Math.random() * 1000);
const [upPort, dnsPort, metricsPort] = [base, base + 3, base + 6];
unboundConfig(path.join(dir, 'upstream.conf'), upPort, { threads: 1, catchAll: true });
const upstream = await start('upstream', upPort, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);
writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
const cfg = path.join(dir, 'webfilter.yaml');
writeFileSync(
  cfg,
  `server: { listen: ["127.0.0.1:${dnsPort}"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
categories: { bench: [${lists.list}] }
groups: { default: { block: [bench] } }
database: { path: ${path.join(dir, 'bench.db')} }
metrics: { listen: "127.0.0.1:${metricsPort}" }
log: { level: warn }
identity: { feed: { enabled: true, token_file: token, requests_per_minute: 100000 } }
`,
);
const wf = await startWebfilterDaemon('webfilter', dnsPort, cfg);

/** Mapping i: 10.x.y.z addresses, every hundredth an IPv6 /64; the last is the querying address. */
function mapping(i: number, logoff: boolean) {
  const address =
    i === MAPPINGS - 1
      ? '127.0.0.1'
      : i % 100 === 0
        ? `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`
        : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return { address, user: `user${i}@school.example`, group: 'default', ...(logoff ? { logoff: true } : {}) };
}

/** One POST on a fresh connection (a pooled one may be closed by the server's keep-alive timeout during a dnsperf run). */
function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: metricsPort,
        path: '/identity',
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function feed(logoff: boolean): Promise<void> {
  for (let i = 0; i < MAPPINGS; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, MAPPINGS - i) }, (_, k) => mapping(i + k, logoff));
    const status = await post(JSON.stringify(batch));
    if (status !== 200) throw new Error(`feed answered ${status}`);
  }
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const n = Number(/webfilter_identity_mappings\{source="feed"\} (\d+)/.exec(metrics)?.[1]);
  if (n !== (logoff ? 0 : MAPPINGS)) throw new Error(`expected ${logoff ? 0 : MAPPINGS} mappings, the daemon has ${n}`);
}

/**
 * The client stage alone, in this process: ns per query with an empty index and with MAPPINGS
 * entries (the address looked up is mapped). Small and steady where whole-daemon qps is noisy.
 */
function stageNs(): { empty: number; loaded: number } {
  const config = configSchema.parse({ server: { allowed_clients: ['127.0.0.0/8'] }, groups: { default: {} } });
  const groups = new Map<string, CompiledGroup>([['default', { name: 'default', blockMask: 0n } as unknown as CompiledGroup]]);
  const directory = new ClientDirectory(config, groups, groups.get('default')!);
  const svc = new IdentityService({ defaultTtlMs: 3_600_000, groups: new Set(['default']) }, Date.now, pino({ level: 'silent' }));
  const stage = clientStage(directory, svc.index, Date.now);
  const addresses = Array.from({ length: 1024 }, (_, i) => `127.0.${i >> 8}.${i & 255}`);
  const answer = { wire: Buffer.alloc(0), kind: 'forwarded' as const, reason: '' };
  const next = () => answer;
  const contexts = addresses.map((address) => ({ address }) as unknown as QueryContext);
  const time = () => {
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      for (let i = 0; i < 1_000_000; i++) stage(contexts[i & 1023], next);
      best = Math.min(best, ((performance.now() - t) * 1000) / 1000);
    }
    return best;
  };
  const empty = time();
  svc.applyFeed(
    Array.from({ length: MAPPINGS }, (_, i) => ({
      key: parseAddressKey(i < 1024 ? addresses[i] : mapping(i, false).address),
      user: `user${i}`,
      group: 'default',
      ttlMs: null,
      logoff: false,
    })),
    'bench',
  );
  return { empty, loaded: time() };
}
const stage = stageNs();

const loadavg = () => os.loadavg()[0].toFixed(2);
const load0 = loadavg();
// Warm the cache with a whole mixed run (dnsperf starts the file from the top each run, so its
// upstream names are cached from here on and every measured run sees the same cache) and the JIT.
dnsperfMax(dnsPort, queries.mixed, SECONDS + 2);
const arms: Record<'none' | 'loaded', number[]> = { none: [], loaded: [] };
/** CPU time the daemon spent per answered query (µs): far less sensitive to other load than qps. */
const cpu: Record<'none' | 'loaded', number[]> = { none: [], loaded: [] };
const ticks = () => {
  const f = readFileSync(`/proc/${wf.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks
};
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
// A B B A A B …: each arm runs as often first as second, so drift and after-effects of loading fall on both.
let loadedNow = false;
for (let r = 0; r < ROUNDS; r++) {
  for (const want of r % 2 === 0 ? [false, true] : [true, false]) {
    if (want !== loadedNow) await feed(!want);
    loadedNow = want;
    const t0 = ticks();
    const run = dnsperfMax(dnsPort, queries.mixed, SECONDS);
    arms[want ? 'loaded' : 'none'].push(run.qps);
    cpu[want ? 'loaded' : 'none'].push(((ticks() - t0) * TICK_US) / run.completed);
  }
  process.stdout.write('.');
}
const load1 = loadavg();
await stop(wf);
await stop(upstream);

const none = median(arms.none);
const loaded = median(arms.loaded);
const ratio = loaded / none;
const spread = (xs: number[]) =>
  `${Math.min(...xs).toLocaleString('en-GB', { maximumFractionDigits: 0 })}–${Math.max(...xs).toLocaleString('en-GB', { maximumFractionDigits: 0 })}`;
const fmt = (n: number) => n.toLocaleString('en-GB', { maximumFractionDigits: 0 });
const cpuNone = median(cpu.none);
const cpuLoaded = median(cpu.loaded);
const us = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const md = `# Identity map: hot-path cost

\`npm run bench:identity\` (also run at the end of \`npm run bench\`): one webfilter process under dnsperf's
mixed load (100 in flight, ${SECONDS} s per run), alternating between **no mappings** and **${MAPPINGS.toLocaleString('en-GB')}
mappings** (1% IPv6 /64 prefixes), loaded and removed through the real \`POST /identity\` feed, ${ROUNDS} rounds in
A B B A order (each arm as often first as second). The querying address is itself mapped (to a user
whose group has the same policy), so every query in the loaded arm pays the lookup and the user's
ClientInfo. Besides qps, the daemon's CPU time per answered query (utime + stime from /proc) is
measured: it is much less sensitive than qps to other work on the machine.

**Run: ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}.**
Load average (1 min) ${load0} before, ${load1} after, on ${os.cpus().length} cores: the machine is shared with other work.

| | median mixed qps | qps runs (min–max) | median CPU µs/query | CPU runs (min–max) |
|---|---|---|---|---|
| no mappings | ${fmt(none)} | ${spread(arms.none)} | ${cpuNone.toFixed(1)} | ${us(cpu.none)} |
| ${MAPPINGS.toLocaleString('en-GB')} mappings | ${fmt(loaded)} | ${spread(arms.loaded)} | ${cpuLoaded.toFixed(1)} | ${us(cpu.loaded)} |
| loaded / none | ${ratio.toFixed(3)}× | | ${(cpuLoaded / cpuNone).toFixed(3)}× | |

The client stage alone (in-process, best of 5 × 1,000,000 lookups of mapped addresses): ${stage.empty.toFixed(0)} ns/query with
no mappings, ${stage.loaded.toFixed(0)} ns/query with ${MAPPINGS.toLocaleString('en-GB')}: the identity lookup adds ${(stage.loaded - stage.empty).toFixed(0)} ns to a query that
costs the daemon ${cpuNone.toFixed(1)} µs of CPU in all (${(((stage.loaded - stage.empty) / 1000 / cpuNone) * 100).toFixed(2)}%).

Target: loaded qps within 5% of none (≥ 0.95×): **${ratio >= 0.95 ? 'met' : 'not met'}** by qps; CPU per query ${cpuLoaded / cpuNone <= 1.05 ? 'within' : 'not within'} 5%.
`;
writeFileSync(path.join(ROOT, 'bench/identity.md'), md);
console.log(`\n${md}`);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
