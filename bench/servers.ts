/** Starting the servers the bench compares, each on its own loopback port, and measuring them. */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The node flags webfilter's daemon is started with where it ships (systemd/webfilter.service,
 * the Dockerfile), so the bench measures what ships: an 8 MB semi-space (young generation 16 MB
 * instead of Node 20's 32 MB) — measured in bench/PROFILE.md "Issue 21: the young generation".
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=8'];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Running {
  name: string;
  port: number;
  child: ChildProcess;
  startupMs: number;
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** A DNS query for `name` A, as bytes. */
function probe(name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  return Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** Resolves with the ms until `port` answers a query (polling every 20 ms), or rejects after `limitMs`. */
export function firstAnswer(port: number, limitMs: number, t0: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const done = (err: Error | null) => {
      clearInterval(tick);
      clearTimeout(limit);
      s.close();
      if (err) reject(err);
      else resolve(Date.now() - t0);
    };
    s.on('message', () => done(null));
    s.on('error', () => {});
    const tick = setInterval(() => s.send(probe('startup.probe.example'), port, '127.0.0.1'), 20);
    const limit = setTimeout(() => done(new Error(`no answer on port ${port} within ${limitMs} ms`)), limitMs);
  });
}

/** Starts a command and waits for its first DNS answer. */
export async function start(name: string, port: number, cmd: string, args: string[], limitMs = 60_000): Promise<Running> {
  const t0 = Date.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<never>((_, reject) =>
    child.on('exit', (c) => reject(new Error(`${name} exited (${c}): ${err.slice(-500)}`))),
  );
  const startupMs = await Promise.race([firstAnswer(port, limitMs, t0), exited]);
  return { name, port, child, startupMs };
}

export async function stop(r: Running): Promise<void> {
  if (r.child.exitCode !== null) return;
  const gone = new Promise((res) => r.child.on('exit', res));
  r.child.kill('SIGTERM');
  await Promise.race([gone, new Promise((res) => setTimeout(res, 5000))]);
  r.child.kill('SIGKILL');
}

/** Peak resident memory (VmHWM) of a process, in MB. */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** unbound config: a catch-all answerer (the shared fake upstream) or a forwarding peer with the list. */
export function unboundConfig(
  file: string,
  port: number,
  opts: { threads: number; catchAll?: boolean; forwardTo?: number; zonesFile?: string; cnames?: Record<string, string> },
): void {
  const lines = [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    '  use-syslog: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${path.dirname(file)}"`,
    '  pidfile: ""',
    `  num-threads: ${opts.threads}`,
    '  so-reuseport: yes',
    '  access-control: 127.0.0.0/8 allow',
    '  do-not-query-localhost: no',
    '  verbosity: 0',
    '  msg-cache-size: 32m',
    '  rrset-cache-size: 64m',
  ];
  if (opts.catchAll)
    lines.push(
      '  local-zone: "." redirect',
      '  local-data: ". 3600 IN A 192.0.2.1"',
      '  local-data: ". 3600 IN AAAA 2001:db8::1"',
    );
  // Names answered with a CNAME (a CDN-like alias), as much real traffic is: CNAME inspection has work.
  for (const [name, target] of Object.entries(opts.cnames ?? {}))
    lines.push(`  local-zone: "${name}." static`, `  local-data: "${name}. 3600 IN CNAME ${target}."`);
  if (opts.zonesFile) lines.push(`  include: "${opts.zonesFile}"`);
  lines.push('remote-control:', '  control-enable: no');
  if (opts.forwardTo) lines.push('forward-zone:', '  name: "."', `  forward-addr: 127.0.0.1@${opts.forwardTo}`);
  writeFileSync(file, lines.join('\n') + '\n');
}

/** Starts the built daemon (dist/cli.js) with `cfg`, as it ships (DAEMON_NODE_FLAGS), answering on `port`. */
export function startWebfilterDaemon(name: string, port: number, cfg: string): Promise<Running> {
  return start(name, port, process.execPath, [...DAEMON_NODE_FLAGS, path.join(ROOT, 'dist/cli.js'), 'serve', '--config', cfg]);
}
