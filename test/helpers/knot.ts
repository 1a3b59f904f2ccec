/**
 * Starts Knot DNS (`knotd`, Debian's knot) as a real authoritative server for test zones on a
 * loopback address. Knot, unlike nsd, accepts RFC 2136 dynamic updates, which the Active Directory
 * tests need (Windows clients register their own names that way). It also answers NSID and DNS
 * cookies when asked (`nsid`, `cookies`): the hop-by-hop EDNS tests need a real server that does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { needTool } from './tools.js';

export interface KnotServer {
  address: string;
  port: number;
  /** "ADDRESS:PORT", as written in a webfilter config. */
  hostPort: string;
  /** "ADDRESS@PORT", as unbound's stub-addr takes it. */
  at: string;
  pid: number;
  dir: string;
  /** What knotd printed (it logs to stderr). */
  log(): string;
  /** SIGTERM to this knotd (by its PID) and wait for it to exit; removes its directory. */
  stop(): Promise<void>;
}

export interface KnotOptions {
  /** Zone apex (no trailing dot) → zone file text. */
  zones: Record<string, string>;
  /** Loopback address to listen on (default 127.0.0.1). */
  address?: string;
  /** Accept dynamic updates (RFC 2136) from 127.0.0.0/8 for every zone. */
  allowUpdates?: boolean;
  /** NSID string answered to queries that ask for it (RFC 5001). */
  nsid?: string;
  /** Answer DNS cookies (RFC 7873) through Knot's mod-cookies. */
  cookies?: boolean;
  /** Sign every zone (Knot's automatic DNSSEC signing, default policy: ECDSA P-256). See trustAnchors. */
  sign?: boolean;
}

/** One SOA query over UDP: true when the server answers it. */
function answersSoa(address: string, port: number, zone: string): Promise<boolean> {
  const labels = zone.split('.').filter(Boolean);
  const q = Buffer.concat([
    Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
    Buffer.from([0, 0, 6, 0, 1]),
  ]);
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => (s.close(), resolve(false)), 200);
    s.on('error', () => (clearTimeout(t), s.close(), resolve(false)));
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve((m.readUInt16BE(2) & 0xf) === 0)));
    s.send(q, port, address);
  });
}

/**
 * Writes the zones and a knot.conf into a fresh directory, starts knotd in the foreground and waits
 * until every zone answers its SOA query. Throws (after stopping knotd) if it does not within 10 s.
 */
export async function startKnot(opts: KnotOptions): Promise<KnotServer> {
  const knotd = needTool('knotd');
  const address = opts.address ?? '127.0.0.1';
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-knot-'));
  const port = await freePort(address);
  const zones = Object.entries(opts.zones);
  for (const [apex, text] of zones) writeFileSync(path.join(dir, `${apex}.zone`), text);
  const conf = [
    'server:',
    `    rundir: ${dir}`,
    `    listen: ${address}@${port}`,
    ...(opts.nsid ? [`    nsid: "${opts.nsid}"`] : []),
    'log:',
    '  - target: stderr',
    '    any: info',
    'database:',
    `    storage: ${dir}`,
    ...(opts.allowUpdates ? ['acl:', '  - id: loopback-update', '    address: 127.0.0.0/8', '    action: update'] : []),
    ...(opts.cookies ? ['mod-cookies:', '  - id: default'] : []),
    'template:',
    '  - id: default',
    `    storage: ${dir}`,
    ...(opts.cookies ? ['    global-module: mod-cookies/default'] : []),
    ...(opts.sign ? ['    dnssec-signing: on'] : []),
    // Never write updates back into the zone files, and keep no journal: each test starts clean.
    '    zonefile-sync: -1',
    '    journal-content: none',
    'zone:',
    ...zones.flatMap(([apex]) => [
      `  - domain: ${apex}`,
      `    file: ${apex}.zone`,
      ...(opts.allowUpdates ? ['    acl: loopback-update'] : []),
    ]),
  ].join('\n');
  writeFileSync(path.join(dir, 'knot.conf'), conf + '\n');
  const child: ChildProcess = spawn(knotd, ['-c', path.join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  // A failed assertion must not leave knotd running.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const exited = new Promise<void>((r) => child.once('exit', () => (process.off('exit', reap), r())));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`knotd exited with ${child.exitCode} before serving: ${log}`);
    }
    const up = await Promise.all(zones.map(([apex]) => answersSoa(address, port, apex)));
    if (up.every(Boolean)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`knotd did not serve ${zones.map(([z]) => z).join(', ')} within 10 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address, port, hostPort: `${address}:${port}`, at: `${address}@${port}`, pid: child.pid!, dir, log: () => log, stop };
}

/**
 * The key-signing keys of signed zones as unbound `trust-anchor:` values ("example. DNSKEY 257 3 13
 * …"), read from the running server with kdig, so a validating resolver in front of it sets AD.
 */
export function trustAnchors(knot: KnotServer, zones: string[]): string[] {
  const kdig = needTool('kdig');
  return zones.map((zone) => {
    const out = execFileSync(kdig, [`@${knot.address}`, '-p', String(knot.port), zone, 'DNSKEY', '+short'], { encoding: 'utf8' });
    const ksk = out.split('\n').find((l) => l.startsWith('257 '));
    if (!ksk) throw new Error(`no KSK for ${zone} from knotd: ${out}`);
    return `"${zone.endsWith('.') ? zone : zone + '.'} DNSKEY ${ksk.trim()}"`;
  });
}
