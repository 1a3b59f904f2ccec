/**
 * A throwaway PostgreSQL 15 cluster (Debian package postgresql) for one test file: `initdb` into a
 * temporary folder, served on a free loopback port with its unix socket in that folder, stopped and
 * removed afterwards. PostgreSQL refuses to run as root, so when the tests run as root (CI) it runs
 * as the `postgres` user (`runuser`), in a folder chowned to it. Trust authentication: loopback only.
 * `pause()`/`resume()` (SIGSTOP/SIGCONT of the postmaster and its backends: a hung database) and
 * `stop()`/`start()` (an outage) drive the outage tests. Signals go only to the PIDs this cluster
 * wrote in its own postmaster.pid and their children.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { freePort } from './free-port.js';
import { needTool } from './tools.js';
import { until } from './wait.js';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  port: number;
  dir: string;
  /** postgres://postgres@127.0.0.1:PORT/DB (trust: no password). */
  url(database?: string): string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL as the superuser in `database` (default postgres) and returns the rows. */
  query<T = Record<string, unknown>>(sql: string, database?: string): Promise<T[]>;
  /** SIGSTOP the postmaster and every backend: connections stay open, nothing answers. */
  pause(): void;
  resume(): void;
  /** Fast shutdown (an outage); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes the folder. */
  destroy(): Promise<void>;
}

function asPostgres(cmd: string, args: string[]): { cmd: string; args: string[] } {
  return process.getuid?.() === 0 ? { cmd: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] } : { cmd, args };
}

function run(cmd: string, args: string[]): void {
  const c = asPostgres(cmd, args);
  const r = spawnSync(c.cmd, c.args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
}

/** The PID of the postmaster and of every process below it (the backends). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

export async function startPostgres(): Promise<PgCluster> {
  needTool(`${BIN}/initdb`);
  needTool(`${BIN}/postgres`);
  if (process.getuid?.() === 0) needTool('runuser');
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-pg-'));
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (pw.status !== 0) throw new Error('no postgres user: install the postgresql package (scripts/test-tools.sh)');
    chownSync(dir, Number(pw.stdout), Number(gid.stdout));
  }
  run(`${BIN}/initdb`, ['-D', data, '--auth=trust', '--no-sync', '-U', 'postgres', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  let child: ChildProcess | null = null;
  let output = '';
  const reap = () => child?.kill('SIGKILL');
  process.once('exit', reap);

  const postmasterPid = (): number | null => {
    try {
      return Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
    } catch {
      return null;
    }
  };

  const start = async () => {
    const c = asPostgres(`${BIN}/postgres`, [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ]);
    output = '';
    child = spawn(c.cmd, c.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const ready = () => spawnSync(`${BIN}/pg_isready`, ['-q', '-h', '127.0.0.1', '-p', String(port)]).status === 0;
    try {
      await until(() => child?.exitCode === null && ready(), `PostgreSQL on 127.0.0.1:${port}`, 30_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}: ${output}`);
    }
  };

  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const pid = postmasterPid();
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGCONT');
    if (pid) {
      for (const p of processTree(pid)) {
        try {
          process.kill(p, 'SIGCONT');
        } catch {
          // gone
        }
      }
      process.kill(pid, 'SIGINT'); // fast shutdown
    } else c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    await until(() => !existsSync(path.join(data, 'postmaster.pid')), 'postmaster.pid removed', 10_000).catch(() => {});
  };

  const signalAll = (sig: NodeJS.Signals) => {
    const pid = postmasterPid();
    if (!pid) throw new Error('PostgreSQL is not running');
    // runuser stops itself when its child stops (job control), and must be continued too, or it
    // would never see the postmaster exit.
    if (sig === 'SIGCONT') child?.kill('SIGCONT');
    // Stop the postmaster first (no new backends), then its children; resume in the reverse order.
    const pids = processTree(pid);
    for (const p of sig === 'SIGSTOP' ? pids : pids.reverse()) {
      try {
        process.kill(p, sig);
      } catch {
        // gone
      }
    }
  };

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const query = async <T>(sqlText: string, database?: string): Promise<T[]> => {
    const sql = postgres(url(database), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      return (await sql.unsafe(sqlText)) as unknown as T[];
    } finally {
      await sql.end({ timeout: 1 });
    }
  };

  await start();
  return {
    port,
    dir,
    url,
    query,
    async createDatabase(name: string) {
      await query(`CREATE DATABASE "${name}"`);
      return url(name);
    },
    pause: () => signalAll('SIGSTOP'),
    resume: () => signalAll('SIGCONT'),
    stop,
    start,
    async destroy() {
      await stop();
      process.off('exit', reap);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
