/**
 * `npm run bench:start`: start to first answer with the 1M-domain list, as wall time and as CPU time
 * of the daemon's processes until that answer (steadier than wall time on a shared machine), for
 * one or more builds interleaved round by round. The first answer asked for is a listed name's
 * (answered from the lists alone, so the upstream plays no part).
 *   BENCH_LIST (1,000,000); BENCH_ROUNDS (5); BENCH_CLI: comma-separated cli.js paths (dist/cli.js);
 *   BENCH_NODE_FLAGS: node flags of the daemon (default: the ones it ships with, DAEMON_NODE_FLAGS), e.g.
 *   "--max-semi-space-size=8 --cpu-prof --cpu-prof-dir=/tmp/prof" for a CPU profile of each start.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { socialDomains, writeLists } from './data.js';
import { median } from './dnsperf.js';
import { cpuTicks, processTree, TICK_US } from './proc.js';
import { DAEMON_NODE_FLAGS } from './servers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIST = Number(process.env.BENCH_LIST ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FLAGS = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? DAEMON_NODE_FLAGS;
const CLIS = (process.env.BENCH_CLI ?? 'dist/cli.js').split(',').map((c) => path.resolve(ROOT, c));

const dir = path.join(ROOT, 'bench/out-start');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const lists = writeLists(dir, LIST, socialDomains(ROOT));

/** A query for facebook.com (listed), id 0x1234. */
const probe = Buffer.from('123401000001000000000000' + '0866616365626f6f6b03636f6d00' + '00010001', 'hex');

async function once(cli: string, n: number): Promise<{ wallMs: number; cpuMs: number }> {
  const port = 40000 + Math.floor(Math.random() * 5000);
  const cfg = path.join(dir, `webfilter-${n}.yaml`);
  writeFileSync(
    cfg,
    `server: { listen: ["127.0.0.1:${port}"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:9"], timeout_ms: 500 }
categories: { bench: [${lists.list}] }
groups: { default: { block: [bench] } }
database: { path: ${path.join(dir, `start-${n}.db`)} }
log: { level: error }
`,
  );
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [...FLAGS, cli, 'serve', '--config', cfg], { stdio: 'ignore' });
  const s = dgram.createSocket('udp4');
  const answered = new Promise<void>((resolve) => s.on('message', () => resolve()));
  s.on('error', () => {});
  const tick = setInterval(() => s.send(probe, port, '127.0.0.1'), 5);
  await answered;
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuMs = (cpuTicks(processTree(child.pid!)) * TICK_US) / 1000;
  clearInterval(tick);
  s.close();
  const gone = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await gone;
  return { wallMs, cpuMs };
}

const results = CLIS.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < CLIS.length; i++) {
    const x = await once(CLIS[i], r * CLIS.length + i);
    results[i].wall.push(x.wallMs);
    results[i].cpu.push(x.cpuMs);
    console.log(
      `round ${r + 1} ${path.relative(ROOT, CLIS[i])}: first answer ${x.wallMs.toFixed(0)} ms wall, ${x.cpuMs.toFixed(0)} ms CPU`,
    );
  }
}
for (let i = 0; i < CLIS.length; i++) {
  console.log(
    `${path.relative(ROOT, CLIS[i])}: median ${median(results[i].wall).toFixed(0)} ms wall, ${median(results[i].cpu).toFixed(0)} ms CPU to the first answer (${LIST.toLocaleString()} domains, ${ROUNDS} rounds)`,
  );
}
