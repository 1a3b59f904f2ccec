/** Starts the real daemon (`node dist/cli.js serve`) on an ephemeral loopback port, for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/cli.js');

export interface DaemonProcess {
  port: number;
  /** Where /metrics is served ("127.0.0.1:PORT"), or null. */
  metrics: string | null;
  /** Every bound address as logged, e.g. ["127.0.0.1:41234", "[::1]:41235"]. */
  addresses: string[];
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  configFile: string;
  dir: string;
  /** Waits for a log line matching `pred` (or times out with an error). */
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for exit; resolves with the exit code and how long it took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** Writes files into a fresh temp dir: name → content. Returns the dir. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-test-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

export async function startDaemon(
  configYaml: string,
  files: Record<string, string> = {},
  opts: {
    beforeStart?: (dir: string) => void;
    /** Reuse this directory (and its database): a restart. */
    dir?: string;
    /** Extra environment for the daemon, e.g. { TZ: 'UTC' }. */
    env?: Record<string, string>;
    /** Node flags for the daemon, e.g. the ones it ships with (bench/servers.ts DAEMON_NODE_FLAGS). */
    nodeArgs?: string[];
  } = {},
): Promise<DaemonProcess> {
  const all = { ...files, 'webfilter.yaml': configYaml };
  const dir = opts.dir ?? tempDir(all);
  if (opts.dir) for (const [name, content] of Object.entries(all)) writeFileSync(path.join(dir, name), content);
  const configFile = path.join(dir, 'webfilter.yaml');
  opts.beforeStart?.(dir);
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, 'serve', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  // A failed assertion must not leave a daemon running (it would keep the test process alive).
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const logs: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let partial = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      let l: Record<string, unknown>;
      try {
        l = JSON.parse(line);
      } catch {
        continue;
      }
      logs.push(l);
      for (const w of [...waiters]) {
        if (w.pred(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitForLog = (pred: (l: Record<string, unknown>) => boolean, timeoutMs = 5000) => {
    const found = logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`),
          ),
        timeoutMs,
      );
      waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  };
  const listening = await Promise.race([
    waitForLog((l) => l.msg === 'webfilter listening', 10_000),
    exited.then((code) => {
      throw new Error(`daemon exited with ${code} before listening: ${stderr} ${JSON.stringify(logs)}`);
    }),
  ]);
  const port = Number(
    String((listening.listen as string[])[0])
      .split(':')
      .pop(),
  );
  return {
    port,
    metrics: (listening.metrics as string | null) ?? null,
    addresses: listening.listen as string[],
    child,
    logs,
    configFile,
    dir,
    waitForLog,
    stop: async () => {
      const t0 = Date.now();
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      return { code, ms: Date.now() - t0 };
    },
  };
}

/** A minimal test config: listen on an ephemeral loopback port, upstreams given, lists in `dir`. */
export function testConfig(opts: {
  upstreams: number[];
  /** Extra keys of the `database` section, e.g. "queue_size: 100". */
  database?: string;
  /** Extra keys of the `metrics` section. */
  metrics?: string;
  extra?: string;
  groups?: string;
  categories?: string;
  strategy?: string;
  timeoutMs?: number;
  maxInFlight?: number;
  /** Extra lines of the `upstream` section, e.g. "  zones: { school.local: [\"127.0.0.1:5300\"] }". */
  upstreamExtra?: string;
  /** Replaces the `server` section's listen and allowed_clients lines. */
  server?: string;
}): string {
  return `
server:
${opts.server ?? '  listen: ["127.0.0.1:0"]\n  allowed_clients: [127.0.0.1/32, 127.0.0.10/32, 127.0.0.20/32, 127.0.0.30/32]'}
upstream:
  servers: [${opts.upstreams.map((p) => `"127.0.0.1:${p}"`).join(', ')}]
  strategy: ${opts.strategy ?? 'failover'}
  timeout_ms: ${opts.timeoutMs ?? 400}
  max_in_flight: ${opts.maxInFlight ?? 10000}
${opts.upstreamExtra ?? ''}
categories:
${opts.categories ?? '  facebook: [facebook.txt]\n  instagram: [instagram.txt]'}
groups:
${opts.groups ?? '  students: { clients: [127.0.0.10/32], block: [facebook, instagram] }\n  sixth-form: { clients: [127.0.0.20/32], block: [] }\n  default: { block: [facebook] }'}
database: { path: webfilter.db${opts.database ? `, ${opts.database}` : ''} }
metrics: { listen: "127.0.0.1:0"${opts.metrics ? `, ${opts.metrics}` : ''} }
${opts.extra ?? ''}
`;
}

export const LISTS = {
  'facebook.txt': '# test list\nfacebook.com\n||fbcdn.net^\n0.0.0.0 fb.com\n',
  'instagram.txt': 'instagram.com\n*.cdninstagram.com\n',
};
