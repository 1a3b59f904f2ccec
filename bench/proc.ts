/**
 * What the kernel says about a server and every process it started (cluster workers): CPU time and
 * peak resident memory, summed over the process tree. Read from /proc, so it works whatever else the
 * machine is doing (CPU time per query is far steadier than qps on a shared machine).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Microseconds per clock tick (utime/stime in /proc/PID/stat are in ticks). */
export const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

function stat(pid: number): string[] | null {
  try {
    // The command name may hold spaces and parentheses: fields start after the last ") ".
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return null;
  }
}

/** `pid` and all its live descendants. */
export function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = stat(Number(name));
    if (f) parent.set(Number(name), Number(f[1]));
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  return out;
}

/** utime + stime of these processes (all their threads), in clock ticks. */
export function cpuTicks(pids: number[]): number {
  let t = 0;
  for (const pid of pids) {
    const f = stat(pid);
    if (f) t += Number(f[11]) + Number(f[12]);
  }
  return t;
}

/** A field of /proc/PID/status in kB (e.g. VmHWM, VmRSS), 0 when the process is gone. */
export function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Peak resident memory of a server, MB: VmHWM of the process plus that of every descendant alive
 * now (each process's own peak; their sum bounds what they held at once from above).
 */
export function peakRssTreeMb(pid: number): { total: number; each: number[] } {
  const each = processTree(pid).map((p) => statusKb(p, 'VmHWM') / 1024);
  return { total: each.reduce((a, b) => a + b, 0), each };
}
