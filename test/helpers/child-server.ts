/** Runs a real server program (knotd, unbound, …) as a child for one test, and stops it for sure. */
import { spawn, type ChildProcess } from 'node:child_process';
import { udpQuery } from './dns-client.js';
import { query } from './wire-builder.js';

export interface ChildServer {
  child: ChildProcess;
  /** Everything the program wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Spawns `cmd args`; a failed test cannot leave it running (killed when the test process exits).
 * Kills only this child, by its PID.
 */
export function spawnServer(cmd: string, args: string[], cwd: string): ChildServer {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const exited = new Promise<void>((r) => child.once('exit', () => (process.off('exit', reap), r())));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Polls `host:port` over UDP with a query for `name`/`type` until any DNS reply comes back (the
 * server is up), or throws after `timeoutMs` with the program's output.
 */
export async function waitForDns(
  server: ChildServer,
  port: number,
  name: string,
  type: number,
  timeoutMs = 10_000,
  host = '127.0.0.1',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) break;
    const r = await udpQuery(port, query(name, type), { host, timeoutMs: 200 }).catch(() => null);
    if (r && r.length >= 12 && (r[2] & 0x80) !== 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  await server.stop();
  throw new Error(`${server.child.spawnfile} did not answer on ${host}:${port} within ${timeoutMs} ms: ${server.output()}`);
}
