/** Running Debian's dnsperf against a loopback port and reading its results. */
import { spawnSync } from 'node:child_process';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

/** Max throughput: 100 queries in flight (more overflows a server's receive buffer at the first burst). */
export function dnsperfMax(port: number, file: string, seconds: number): { qps: number; lost: number; completed: number } {
  const r = spawnSync(
    'dnsperf',
    ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-q', '100', '-c', '4', '-t', '2'],
    {
      encoding: 'utf8',
      timeout: (seconds + 30) * 1000,
    },
  );
  return {
    qps: Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN),
    lost: Number(/Queries lost:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN),
    completed: Number(/Queries completed:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN),
  };
}

/** Latency at a fixed rate: per-query lines from `-v`, p50, p99 and p99.9 in ms. */
export function dnsperfLatency(
  port: number,
  file: string,
  rate: number,
  seconds: number,
): { p50: number; p99: number; p999: number; lost: number } {
  const r = spawnSync(
    'dnsperf',
    ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-Q', String(rate), '-q', '100', '-t', '2', '-v'],
    {
      encoding: 'utf8',
      timeout: (seconds + 30) * 1000,
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const lat = [...r.stdout.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  const at = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), lost: Number(/Queries lost:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN) };
}
