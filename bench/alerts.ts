/**
 * `npm run bench:alerts` (and the end of `npm run bench`): does alerting cost the DNS thread anything?
 * One webfilter process under dnsperf's mixed load, where the social-media names (1% of the mix) are
 * also a vpn-proxy circumvention list, so every such query is a signal that alerts at once. The
 * config is reloaded (SIGHUP) between **alerts off** and **alerts on** (e-mail to a real SMTP server,
 * aiosmtpd, on loopback), in A B B A order, so both arms run back to back on the same process.
 * Writes its section of bench/alerts.md.   BENCH_SECONDS (6), BENCH_ROUNDS (4), BENCH_LIST (100000)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSmtpServer } from '../test/helpers/smtp-server.js';
import { socialDomains, writeLists, writeQueries } from './data.js';
import { start, startWebfilterDaemon, stop, unboundConfig } from './servers.js';
import { dnsperfMax, median } from './dnsperf.js';
import { writeSection } from './md-section.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const LIST = Number(process.env.BENCH_LIST ?? 100_000);

if (spawnSync('sh', ['-c', 'command -v dnsperf && command -v unbound']).status !== 0) {
  console.error('bench: missing dnsperf or unbound. Install: apt-get install dnsperf unbound');
  process.exit(1);
}

const dir = path.join(ROOT, 'bench/out-alerts');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const social = socialDomains(ROOT);
// The social names go only in the vpn-proxy list (not the category too), so each is a signal.
const lists = writeLists(dir, LIST, []);
const queries = writeQueries(dir, LIST, social);
const vpnList = path.join(dir, 'vpn.txt');
writeFileSync(vpnList, social.join('\n') + '\n');
// The mixed file, with every 100th query a name of the vpn-proxy list (1% of the load are signals).
const mixed = path.join(dir, 'q-mixed-vpn.txt');
writeFileSync(
  mixed,
  readFileSync(queries.mixed, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l, i) => (i % 100 === 50 ? `www.${social[((i / 100) % social.length) | 0]} A` : l))
    .join('\n') + '\n',
);
const smtp = await startSmtpServer();

const base = 31000 + Math.floor(Math.random() * 1000);
const [upPort, dnsPort, metricsPort] = [base, base + 3, base + 6];
unboundConfig(path.join(dir, 'upstream.conf'), upPort, { threads: 1, catchAll: true });
const upstream = await start('upstream', upPort, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);
const cfg = path.join(dir, 'webfilter.yaml');
const config = (alerts: boolean) =>
  `server: { listen: ["127.0.0.1:${dnsPort}"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${upPort}"], timeout_ms: 2000 }
categories: { bench: [${lists.list}] }
groups: { default: { block: [bench] } }
circumvention: { vpn_proxy: { lists: [${vpnList}] } }
database: { path: ${path.join(dir, 'bench.db')} }
metrics: { listen: "127.0.0.1:${metricsPort}" }
log: { level: warn }
console: { public_url: "https://filter.bench.example" }
${
  alerts
    ? `alerts:
  email: { smtp: "smtp://127.0.0.1:${smtp.port}", require_tls: false, from: "webfilter@bench.example", to: ["dsl@bench.example"] }
  immediate: [vpn-proxy]
  group_seconds: 5
  repeat_minutes: 1`
    : ''
}
`;
writeFileSync(cfg, config(false));
const wf = await startWebfilterDaemon('webfilter', dnsPort, cfg);

/** One metric; retried once, as a kept-alive connection may have been closed by the server meanwhile. */
async function metric(re: RegExp): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(re.exec(text)?.[1] ?? NaN);
    } catch (e) {
      if (attempt >= 2) throw e;
    }
  }
}
const reloads = () => metric(/webfilter_config_reload_total\{outcome="success"\} (\d+)/);

/** Rewrites the config and reloads, waiting until the daemon says the reload is done. */
async function setAlerts(on: boolean): Promise<void> {
  const before = await reloads();
  writeFileSync(cfg, config(on));
  wf.child.kill('SIGHUP');
  for (let i = 0; i < 600 && (await reloads()) === before; i++) await new Promise((r) => setTimeout(r, 50));
  if ((await reloads()) === before) throw new Error('the reload did not finish');
}

const loadavg = () => os.loadavg()[0].toFixed(2);
const load0 = loadavg();
dnsperfMax(dnsPort, mixed, SECONDS + 2); // warm the cache and the JIT
const arms: Record<'off' | 'on', number[]> = { off: [], on: [] };
const cpu: Record<'off' | 'on', number[]> = { off: [], on: [] };
const ticks = () => {
  const f = readFileSync(`/proc/${wf.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
let on = false;
for (let r = 0; r < ROUNDS; r++) {
  for (const want of r % 2 === 0 ? [false, true] : [true, false]) {
    if (want !== on) await setAlerts(want);
    on = want;
    const t0 = ticks();
    const run = dnsperfMax(dnsPort, mixed, SECONDS);
    arms[want ? 'on' : 'off'].push(run.qps);
    // The whole process (all threads): the alerting thread's own work is counted here too.
    cpu[want ? 'on' : 'off'].push(((ticks() - t0) * TICK_US) / run.completed);
  }
  process.stdout.write('.');
}
const signals = await metric(/webfilter_circumvention_signals_total\{group="default",kind="vpn-proxy"\} (\d+)/);
const sent = await metric(/webfilter_alerts_sent_total\{channel="email",result="sent"\} (\d+)/);
const load1 = loadavg();
await stop(wf);
await stop(upstream);
await smtp.stop();

const off = median(arms.off);
const onQps = median(arms.on);
const ratio = onQps / off;
const fmt = (n: number) => n.toLocaleString('en-GB', { maximumFractionDigits: 0 });
const spread = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
const us = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const md = `# Alerts: cost to DNS

\`npm run bench:alerts\`: one webfilter process under dnsperf's mixed load (70% cached, 20% upstream, 10%
blocked; 100 in flight, ${SECONDS} s per run) with a ${LIST.toLocaleString('en-GB')}-entry list, where 1% of the mix are names of a
vpn-proxy list, so each of those queries is a circumvention signal that alerts at
once. Reloaded between **alerts off** and **alerts on** (e-mail to a real SMTP server on loopback,
group_seconds 5, repeat_minutes 1), ${ROUNDS} rounds in A B B A order. CPU is the whole process's
(utime + stime from /proc, every thread: the alerting thread's work included) per answered query.

**Run: ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}.**
Load average (1 min) ${load0} before, ${load1} after, on ${os.cpus().length} cores: the machine is shared with other work.
${fmt(signals)} vpn-proxy signals were found in the runs; ${fmt(sent)} e-mails were sent (grouping and repeats keep it to a few).

| | median mixed qps | qps runs (min–max) | median CPU µs/query | CPU runs (min–max) |
|---|---|---|---|---|
| alerts off | ${fmt(off)} | ${spread(arms.off)} | ${median(cpu.off).toFixed(1)} | ${us(cpu.off)} |
| alerts on | ${fmt(onQps)} | ${spread(arms.on)} | ${median(cpu.on).toFixed(1)} | ${us(cpu.on)} |
| on / off | ${ratio.toFixed(3)}× | | ${(median(cpu.on) / median(cpu.off)).toFixed(3)}× | |

Target: mixed qps with alerts on within 5% of off (≥ 0.95×): **${ratio >= 0.95 ? 'met' : 'not met'}**.
`;
writeSection(path.join(ROOT, 'bench/alerts.md'), 'cost', md);
console.log(`\n${md}`);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
