/**
 * Cold-query throughput of webfilter forwarding over DNS over TLS (and over HTTPS) against plain UDP
 * to the same server: one Debian unbound answering every name (a catch-all zone) on a plain port, a
 * DoT port and a DoH port, with a certificate from a test CA made by openssl. Three webfilters, one
 * per transport, are measured by dnsperf with unique names (every query misses webfilter's cache and
 * goes upstream), A/B back to back, ROUNDS times; the medians and the DoT/plain ratio are written to
 * bench/encrypted.md. `npm run bench:encrypted` runs it alone; `npm run bench` runs it last.
 *   BENCH_SECONDS (6), BENCH_ROUNDS (3)
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestCa } from '../test/helpers/test-ca.js';
import { dnsperfMax, median } from './dnsperf.js';
import { peakRssMb, start, startWebfilterDaemon, stop, type Running } from './servers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface EncryptedResult {
  date: string;
  machine: string;
  load: { before: number[]; after: number[] };
  seconds: number;
  rounds: number;
  runs: Record<'plain' | 'dot' | 'doh', number[]>;
  median: Record<'plain' | 'dot' | 'doh', number>;
  rssMb: Record<'plain' | 'dot' | 'doh', number>;
  /** DoT/plain of each round (the two ran back to back, so they saw about the same load). */
  roundRatios: number[];
}

export async function runEncryptedBench(seconds = 6, rounds = 3): Promise<EncryptedResult> {
  const dir = path.join(ROOT, 'bench/out-encrypted');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ca = makeTestCa('webfilter bench CA');
  const cert = ca.issue('bench.dns.example', { ip: ['127.0.0.1'] });
  const load0 = os.loadavg();
  let port = 30000 + Math.floor(Math.random() * 2000);
  const next = () => (port += 3);
  const [up, upTls, upHttps] = [next(), next(), next()];
  writeFileSync(
    path.join(dir, 'upstream.conf'),
    [
      'server:',
      `  interface: 127.0.0.1@${up}`,
      `  interface: 127.0.0.1@${upTls}`,
      `  interface: 127.0.0.1@${upHttps}`,
      `  port: ${up}`,
      `  tls-port: ${upTls}`,
      `  https-port: ${upHttps}`,
      `  tls-service-key: "${cert.keyFile}"`,
      `  tls-service-pem: "${cert.certFile}"`,
      '  incoming-num-tcp: 100',
      '  use-syslog: no',
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      '  pidfile: ""',
      '  num-threads: 1',
      '  access-control: 127.0.0.0/8 allow',
      '  verbosity: 0',
      '  local-zone: "." redirect',
      '  local-data: ". 3600 IN A 192.0.2.1"',
      'remote-control:',
      '  control-enable: no',
    ].join('\n') + '\n',
  );
  const upstream = await start('upstream', up, 'unbound', ['-d', '-c', path.join(dir, 'upstream.conf')]);
  const servers: Record<'plain' | 'dot' | 'doh', string> = {
    plain: `127.0.0.1:${up}`,
    dot: `tls://127.0.0.1:${upTls}#bench.dns.example`,
    doh: `https://127.0.0.1:${upHttps}/dns-query#bench.dns.example`,
  };
  const filters: Record<string, Running> = {};
  for (const [kind, server] of Object.entries(servers)) {
    const p = next();
    const cfg = path.join(dir, `webfilter-${kind}.yaml`);
    writeFileSync(path.join(dir, 'none.txt'), 'listed.bench.example\n');
    writeFileSync(
      cfg,
      `server: { listen: ["127.0.0.1:${p}"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["${server}"], tls_ca: ${ca.certFile}, timeout_ms: 2000 }
categories: { bench: [none.txt] }
groups: { default: { block: [bench] } }
database: { path: ${path.join(dir, `${kind}.db`)} }
metrics: { listen: "127.0.0.1:0" }
log: { level: warn }
`,
    );
    filters[kind] = await startWebfilterDaemon(`webfilter-${kind}`, p, cfg);
  }
  // Unique names per run, so every query of every run misses the cache and goes upstream.
  let file = 0;
  const coldFile = () => {
    const f = path.join(dir, `cold-${file++}.txt`);
    writeFileSync(f, Array.from({ length: 400_000 }, (_, i) => `c${file}-${i}.cold.bench.example A`).join('\n') + '\n');
    return f;
  };
  const runs: EncryptedResult['runs'] = { plain: [], dot: [], doh: [] };
  dnsperfMax(filters.dot.port, coldFile(), 2); // open the connections and warm the JIT
  dnsperfMax(filters.plain.port, coldFile(), 2);
  dnsperfMax(filters.doh.port, coldFile(), 2);
  for (let r = 0; r < rounds; r++) {
    // A/B back to back, alternating which goes first.
    const order: ('plain' | 'dot' | 'doh')[] = r % 2 === 0 ? ['plain', 'dot', 'doh'] : ['dot', 'plain', 'doh'];
    for (const kind of order) {
      runs[kind].push(dnsperfMax(filters[kind].port, coldFile(), seconds).qps);
      process.stdout.write('.');
    }
  }
  console.log('');
  const rssMb = {
    plain: peakRssMb(filters.plain.child.pid!),
    dot: peakRssMb(filters.dot.child.pid!),
    doh: peakRssMb(filters.doh.child.pid!),
  };
  for (const f of Object.values(filters)) await stop(f);
  await stop(upstream);
  ca.remove();
  rmSync(dir, { recursive: true, force: true });
  const result: EncryptedResult = {
    date: new Date().toISOString().slice(0, 10),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`,
    load: { before: load0, after: os.loadavg() },
    seconds,
    rounds,
    runs,
    median: { plain: median(runs.plain), dot: median(runs.dot), doh: median(runs.doh) },
    rssMb,
    roundRatios: runs.dot.map((d, i) => d / runs.plain[i]),
  };
  writeFileSync(path.join(ROOT, 'bench/encrypted.md'), report(result));
  return result;
}

function report(r: EncryptedResult): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-GB');
  const ratio = (x: number) => `${(x / r.median.plain).toFixed(2)}×`;
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  return `# Encrypted upstreams: cold qps over DoT and DoH against plain UDP

Written by \`npm run bench:encrypted\` (also the last part of \`npm run bench\`). One Debian unbound
answers every name (catch-all zone) on a plain port, a DoT port and a DoH port; three webfilters, one
per transport, each forward to it; dnsperf sends unique names (every query misses webfilter's cache
and goes upstream), 100 in flight, ${r.seconds} s per run, the transports back to back in each of
${r.rounds} rounds (plain and DoT alternating which goes first). Target: DoT within 30 % of plain.

**Run: ${r.date}, ${r.machine}.** Load average (1/5/15 min) before ${load(r.load.before)}, after
${load(r.load.after)}: dnsperf, unbound and webfilter share the two cores with other work on this
machine, so single runs vary; compare the medians and the spread of the runs below.

| upstream transport | median cold qps | runs | vs plain | peak RSS (MB) |
|---|---|---|---|---|
| plain UDP | ${n(r.median.plain)} | ${r.runs.plain.map(n).join(', ')} | 1.00× | ${r.rssMb.plain.toFixed(0)} |
| DNS over TLS | ${n(r.median.dot)} | ${r.runs.dot.map(n).join(', ')} | ${ratio(r.median.dot)} | ${r.rssMb.dot.toFixed(0)} |
| DNS over HTTPS | ${n(r.median.doh)} | ${r.runs.doh.map(n).join(', ')} | ${ratio(r.median.doh)} | ${r.rssMb.doh.toFixed(0)} |

DoT/plain of the medians = **${(r.median.dot / r.median.plain).toFixed(2)}**; of each round (back to back, so under about the
same load): ${r.roundRatios.map((x) => x.toFixed(2)).join(', ')}, median **${median(r.roundRatios).toFixed(2)}**
(target ≥ 0.70: ${median(r.roundRatios) >= 0.7 ? '**met**' : '**not met**'}).
`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runEncryptedBench(Number(process.env.BENCH_SECONDS ?? 6), Number(process.env.BENCH_ROUNDS ?? 3));
  console.log(readFileSync(path.join(ROOT, 'bench/encrypted.md'), 'utf8'));
  console.log(
    `DoT/plain cold qps: ${(r.median.dot / r.median.plain).toFixed(2)} (median of rounds ${median(r.roundRatios).toFixed(2)})`,
  );
  process.exit(0);
}
