/**
 * `npm run bench:cost`: what one query costs webfilter on each path — hot (cache hits), blocked,
 * cold (every query forwarded) and mixed (70/20/10) — measured in ways that stay true on a busy
 * shared machine, where qps and latency do not:
 *
 * - cpu (default): the daemon's CPU time (utime + stime of every process and thread it runs, from
 *   /proc) per answered query, with dnsperf sending a fixed number of queries at a fixed rate;
 * - callgrind: the daemon runs under `valgrind --tool=callgrind`; the instructions it executes
 *   (user space, all threads and workers) between a zero and a dump, per answered query. Exactly
 *   repeatable for the same build and inputs, but blind to the kernel's share (the sendmsg/recvmsg
 *   every UDP server pays, which the Node echo server row shows in cpu mode).
 *
 * The bare Node dgram echo server is measured the same way: the floor for any Node UDP server.
 * Several builds can be compared, interleaved A B / B A in each round (BENCH_COST_CLI=a.js,b.js).
 * Writes bench/cost.md.
 *   BENCH_COST_MODE cpu | callgrind; BENCH_COST_CLI (dist/cli.js); BENCH_LIST (1,000,000 cpu /
 *   100,000 callgrind); BENCH_QUERIES per run (60,000 / 3,000); BENCH_RATE qps (8,000 / 300);
 *   BENCH_ROUNDS (3 / 1); BENCH_SHARED (a list such as 0,1: the i-th build ships its evidence to a
 *   throwaway local PostgreSQL 15 with 1, e.g. BENCH_COST_CLI=dist/cli.js,dist/cli.js BENCH_SHARED=0,1
 *   compares local-only with shipping on; the table then goes to bench/shared.md); BENCH_WORKERS (server.workers, unset = the config default; a list such as 1,2 gives each build its own, so
 *   BENCH_COST_CLI=dist/cli.js,dist/cli.js BENCH_WORKERS=1,2 compares one process with two workers); BENCH_ECHO=0 (no echo row); BENCH_NODE_FLAGS (node flags of each build, builds separated by commas, flags
 *   within one by spaces, the last one given repeats: BENCH_COST_CLI=dist/cli.js,dist/cli.js
 *   BENCH_NODE_FLAGS='--max-semi-space-size=16,--max-semi-space-size=8' compares two young-generation sizes;
 *   unset: the flags the daemon ships with, DAEMON_NODE_FLAGS); BENCH_PATHS (a subset, e.g. hot,mixed);
 *   BENCH_UNBOUND=N (unbound with N threads, the same list and upstream, measured on every path: the
 *   bound of the mixed/cold targets); BENCH_PROFILE=DIR (a V8 CPU profile of each server's main thread;
 *   DIR/window.json says how much start-up and warming to skip:
 *   node --import tsx bench/cpuprofile-top.ts DIR/webfilter/CPU…001.cpuprofile --skip-ms=N --parts --queries=N)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hotCnames, listedDomain, socialDomains, writeLists } from './data.js';
import { median } from './dnsperf.js';
import { cpuTicks, processTree, TICK_US } from './proc.js';
import { DAEMON_NODE_FLAGS, start, stop, unboundConfig, type Running } from './servers.js';
import { writeSection } from './md-section.js';
import { startPostgres } from '../test/helpers/postgres.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODE = process.env.BENCH_COST_MODE === 'callgrind' ? 'callgrind' : 'cpu';
const CG = MODE === 'callgrind';
const CLIS = (process.env.BENCH_COST_CLI ?? 'dist/cli.js').split(',').map((c) => path.resolve(ROOT, c));
const LIST = Number(process.env.BENCH_LIST ?? (CG ? 100_000 : 1_000_000));
const QUERIES = Number(process.env.BENCH_QUERIES ?? (CG ? 3_000 : 60_000));
const RATE = Number(process.env.BENCH_RATE ?? (CG ? 300 : 8_000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (CG ? 1 : 3));
const WORKERS = process.env.BENCH_WORKERS;
/** server.workers of the i-th build (the last one given repeats). */
const workersOf = (i: number) => WORKERS?.split(',')[Math.min(i, WORKERS.split(',').length - 1)];
const NODE_FLAGS = process.env.BENCH_NODE_FLAGS?.split(',');
/** Node flags of the i-th build (the last one given repeats; unset: the flags the daemon ships with). */
const flagsOf = (i: number) =>
  NODE_FLAGS ? NODE_FLAGS[Math.min(i, NODE_FLAGS.length - 1)].split(' ').filter(Boolean) : DAEMON_NODE_FLAGS;
const SHARED = process.env.BENCH_SHARED?.split(',').map((x) => x === '1');
/** Whether the i-th build ships to PostgreSQL (the last one given repeats). */
const sharedOf = (i: number) => SHARED?.[Math.min(i, SHARED.length - 1)] ?? false;
const ALL_PATHS = ['hot', 'blocked', 'cold', 'mixed'] as const;
type PathName = (typeof ALL_PATHS)[number];
const PATHS = process.env.BENCH_PATHS ? ALL_PATHS.filter((p) => process.env.BENCH_PATHS!.split(',').includes(p)) : [...ALL_PATHS];
/** BENCH_UNBOUND=N: unbound with N threads, the same list (as local zones) and upstream, measured on every path too. */
const UNBOUND = Number(process.env.BENCH_UNBOUND ?? 0);
/** BENCH_PROFILE=DIR: every server writes a V8 CPU profile (node --cpu-prof) of its main thread to DIR/<name>/. */
const PROFILE = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : null;
if (PROFILE) mkdirSync(PROFILE, { recursive: true });
const profileFlags = (name: string) => (PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, name)}`] : []);

const missing = ['dnsperf', 'unbound', ...(CG ? ['valgrind', 'callgrind_control'] : [])].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t} || test -x /usr/sbin/${t}`]).status !== 0,
);
if (missing.length) {
  console.error(`bench:cost: missing ${missing.join(', ')}. Install: apt-get install dnsperf unbound valgrind`);
  process.exit(1);
}

const dir = path.join(ROOT, 'bench/out-cost');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const social = socialDomains(ROOT);
const lists = writeLists(dir, LIST, social);

/** The names of one measured run of a path; cold and mixed names are new in every run (and server). */
function names(p: PathName, run: string, n: number): string[] {
  const hot = (i: number) => `www.hot${i % 1000}.example.org A`;
  const blocked = (i: number) => {
    const base = i % 10 === 0 ? social[i % social.length] : listedDomain((i * 7919) % LIST);
    return `${i % 3 === 0 ? 'a.b.c.' : 'www.'}${base} ${i % 2 ? 'AAAA' : 'A'}`;
  };
  const cold = (i: number) => `c${i}.${run}.cost.example.net A`;
  const pick = { hot, blocked, cold, mixed: (i: number) => (i % 10 < 7 ? hot(i) : i % 10 < 9 ? cold(i) : blocked(i)) }[p];
  return Array.from({ length: n }, (_, i) => pick(i));
}

let fileNo = 0;
function queryFile(lines: string[]): string {
  const f = path.join(dir, `q-${fileNo++}.txt`);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

/** Sends every line of `file` once at `rate` qps; returns the queries answered. */
function send(port: number, file: string, rate: number): { completed: number; lost: number } {
  const r = spawnSync(
    'dnsperf',
    ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-n', '1', '-Q', String(rate), '-q', '100', '-t', '5'],
    { encoding: 'utf8', timeout: 3_600_000 },
  );
  return {
    completed: Number(/Queries completed:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN),
    lost: Number(/Queries lost:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN),
  };
}

/** callgrind: counters to zero / dumped, for every process of the server; returns instructions since the zero. */
function callgrind(pids: number[], what: 'zero' | 'dump'): number {
  let total = 0;
  for (const pid of pids) {
    spawnSync('callgrind_control', [what === 'zero' ? '-z' : '-d', String(pid)], { encoding: 'utf8', timeout: 120_000 });
    if (what === 'zero') continue;
    const dumps = readdirSync(dir)
      .filter((f) => f.startsWith(`cg.${pid}.`))
      .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    const last = dumps.at(-1);
    if (!last) continue;
    const m = /^summary:\s+(\d+)/m.exec(readFileSync(path.join(dir, last), 'utf8'));
    total += m ? Number(m[1]) : 0;
  }
  return total;
}

const wrap = (cmd: string, args: string[]): [string, string[]] =>
  CG
    ? [
        'valgrind',
        [
          '--tool=callgrind',
          '--smc-check=all',
          '--trace-children=yes',
          `--callgrind-out-file=${path.join(dir, 'cg.%p')}`,
          '--dump-instr=no',
          '--collect-jumps=no',
          cmd,
          ...args,
        ],
      ]
    : [cmd, args];

let port = 31000 + Math.floor(Math.random() * 2000);
const upPort = (port += 3);
unboundConfig(path.join(dir, 'upstream.conf'), upPort, { threads: 1, catchAll: true, cnames: hotCnames() });
const upstream = await start('upstream', upPort, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);

const pg = SHARED?.some(Boolean) ? await startPostgres() : null;
const pgUrl = pg ? await pg.createDatabase('cost') : null;

async function startWebfilter(
  cli: string,
  tag: string,
  workers: string | undefined,
  shared: boolean,
  flags: string[],
): Promise<Running> {
  const p = (port += 3);
  const cfg = path.join(dir, `webfilter-${tag}.yaml`);
  writeFileSync(
    cfg,
    `server: { listen: ["127.0.0.1:${p}"], allowed_clients: [127.0.0.0/8]${workers ? `, workers: ${workers}` : ''} }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
cache: { max_entries: 100000 }
categories: { bench: [${lists.list}] }
groups: { default: { block: [bench] } }
database: { path: ${path.join(dir, `cost-${tag}.db`)} }
metrics: { listen: "127.0.0.1:0" }
log: { level: warn }
${shared ? `site: bench\nnode: node-${tag.toLowerCase()}\nshared: { postgres: { url: "${pgUrl}" } }\n` : ''}`,
  );
  const [cmd, args] = wrap(process.execPath, [...flags, ...profileFlags(tag), cli, 'serve', '--config', cfg]);
  return start(tag, p, cmd, args, CG ? 1_800_000 : 60_000);
}

async function startEcho(): Promise<Running> {
  const p = (port += 3);
  const [cmd, args] = wrap(process.execPath, [
    ...profileFlags('echo'),
    '--import',
    'tsx',
    path.join(ROOT, 'bench/echo-server.ts'),
    String(p),
  ]);
  return start('echo', p, cmd, args, CG ? 600_000 : 60_000);
}

async function startUnbound(): Promise<Running> {
  const p = (port += 3);
  const conf = path.join(dir, `unbound-${p}.conf`);
  unboundConfig(conf, p, { threads: UNBOUND, forwardTo: upPort, zonesFile: lists.unbound });
  const [cmd, args] = wrap('unbound', ['-d', '-c', conf]);
  return start('unbound', p, cmd, args, CG ? 1_800_000 : 120_000);
}

const servers: Running[] = [];
const spawnedAt: Record<string, number> = {};
for (const [i, cli] of CLIS.entries()) {
  const tag = CLIS.length > 1 ? ('AB'[i] ?? `S${i}`) : 'webfilter';
  spawnedAt[tag] = Date.now();
  servers.push(await startWebfilter(cli, tag, workersOf(i), sharedOf(i), flagsOf(i)));
}
// BENCH_ECHO=0 leaves the echo server out (under valgrind, tsx's esbuild child can fail to start).
spawnedAt.echo = Date.now();
const echo = process.env.BENCH_ECHO === '0' ? null : await startEcho();
spawnedAt.unbound = Date.now();
const unbound = UNBOUND > 0 ? await startUnbound() : null;
/** Measured on every path like the builds, but not part of the B/A ratio. */
const measured = [...servers, ...(unbound ? [unbound] : [])];
for (const s of [...measured, ...(echo ? [echo] : [])]) console.log(`${s.name}: first answer after ${s.startupMs} ms`);

// Warm every path (JIT, cache, upstream sockets) before measuring; the hot names are cached from here on.
const warmN = CG ? 2_000 : 20_000;
for (const s of measured) {
  for (const p of ALL_PATHS) send(s.port, queryFile(names(p, `warm-${s.name}`, warmN)), RATE);
  send(s.port, queryFile(names('hot', 'warm', warmN)), RATE);
}
if (echo) send(echo.port, queryFile(names('hot', 'warm', warmN)), RATE);
// With BENCH_PROFILE, what the profile summary should leave out (start-up and warming) ends here.
const measuredFrom = Date.now();

/** Cost per answered query of one run: CPU µs (cpu mode) or instructions (callgrind). */
function measure(s: Running, file: string): number {
  const pids = processTree(s.child.pid!);
  if (CG) callgrind(pids, 'zero');
  const t0 = cpuTicks(pids);
  const r = send(s.port, file, RATE);
  const cost = CG ? callgrind(pids, 'dump') : (cpuTicks(pids) - t0) * TICK_US;
  return cost / r.completed;
}

const load0 = os.loadavg()[0];
const results: Record<string, Record<string, number[]>> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const p of PATHS) {
    const order = round % 2 === 0 ? measured : [...measured].reverse();
    for (const s of order) {
      const cost = measure(s, queryFile(names(p, `r${round}-${s.name}`, QUERIES)));
      ((results[s.name] ??= {})[p] ??= []).push(cost);
    }
    process.stdout.write('.');
  }
  if (echo && PATHS.includes('hot'))
    ((results.echo ??= {}).hot ??= []).push(measure(echo, queryFile(names('hot', 'echo', QUERIES))));
}
const load1 = os.loadavg()[0];
if (PROFILE) {
  // Per server: the ms from its spawn to the first measured run (bench/cpuprofile-top.ts --skip-ms).
  const skipMs = Object.fromEntries(Object.entries(spawnedAt).map(([n, t]) => [n, measuredFrom - t]));
  writeFileSync(path.join(PROFILE, 'window.json'), JSON.stringify({ skipMs, paths: PATHS, queriesPerRun: QUERIES }));
}
for (const s of [...measured, ...(echo ? [echo] : [])]) await stop(s);
await stop(upstream);
const shipped = pg
  ? (
      await pg.query<{ n: string }>('SELECT (SELECT count(*) FROM blocked) + (SELECT count(*) FROM access_hourly) AS n', 'cost')
    )[0].n
  : null;
await pg?.destroy();

const unit = CG ? 'instructions/query' : 'CPU µs/query';
const fmt = (x: number) => (CG ? Math.round(x).toLocaleString('en-GB') : x.toFixed(1));
const names_ = [...measured.map((s) => s.name), 'echo'];
const rows = PATHS.map((p) => {
  const cells = names_.map((n) => {
    const xs = results[n]?.[p];
    return xs ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '';
  });
  const ratio =
    servers.length === 2 ? ` ${(median(results[servers[1].name][p]) / median(results[servers[0].name][p])).toFixed(3)}× |` : '';
  return `| ${p} | ${cells.join(' | ')} |${ratio}`;
});
const header = `| path | ${names_.join(' | ')} |${servers.length === 2 ? ' B/A |' : ''}`;
const md = `# Cost per query

\`${CG ? 'BENCH_COST_MODE=callgrind ' : ''}npm run bench:cost\`: ${unit} (median of ${ROUNDS} run${ROUNDS > 1 ? 's' : ''}, min–max), ${QUERIES.toLocaleString('en-GB')} queries per run at
${RATE.toLocaleString('en-GB')} qps, ${LIST.toLocaleString('en-GB')}-domain list${WORKERS ? `, server.workers: ${WORKERS}` : ''}${NODE_FLAGS ? `, node flags: ${NODE_FLAGS.map((f, i) => `${'AB'[i] ?? i} \`${f || '(none)'}\``).join(', ')}` : ''}. ${CG ? 'Instructions executed in user space by every process and thread of the server (valgrind callgrind), kernel excluded.' : 'CPU time (user + system) of every process and thread of the server, from /proc.'}
Builds: ${CLIS.map((c, i) => `${servers[i].name} = \`${path.relative(ROOT, c)}\``).join(', ')};${unbound ? ` unbound = unbound ${UNBOUND} thread${UNBOUND > 1 ? 's' : ''}, the same list as local zones, forwarding to the same upstream;` : ''} echo = the bare Node dgram echo server (hot row only).

**Run: ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}; load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after.**

${header}
|---|${names_.map(() => '---|').join('')}${servers.length === 2 ? '---|' : ''}
${rows.join('\n')}
`;
if (SHARED) {
  const shippedLine = `Shipping on: ${SHARED.map((x, i) => `${servers[i]?.name ?? i} ${x ? 'ships to PostgreSQL' : 'local only'}`).join(', ')}; ${Number(shipped).toLocaleString('en-GB')} blocked and access rows reached PostgreSQL. The PostgreSQL server's own CPU is not counted (it is the centre's, not the filter's).`;
  writeSection(
    path.join(ROOT, 'bench/shared.md'),
    'shipping-cost',
    `${md.replace(/^# Cost per query/, '## Cost per query with shipping on and off (issue 17)')}\n${shippedLine}\n`,
  );
} else writeFileSync(path.join(ROOT, `bench/cost${CG ? '-callgrind' : ''}.md`), md);
console.log(`\n${md}`);
process.exit(0);
