/**
 * The console's review pages timed on a store, for the evidence benches (bench/evidence.ts on the
 * box's SQLite file, bench/evidence-postgres.ts on the shared PostgreSQL store): each page's route
 * handler called as the console calls it, by a trust-wide reviewer, in this process.
 */
import { pino } from 'pino';
import type { LoadedConfig } from '../src/config/load.js';
import type { ConsoleEnv, RequestContext } from '../src/console/context.js';
import { ROUTES } from '../src/console/routes.js';
import type { Storage } from '../src/storage/storage.js';
import { TRUST_SCOPE } from '../src/storage/scope.js';

/** A page's times over its loads, ms: wall and CPU (user + system of this process), and its HTTP status. */
export interface PageTimes {
  p50: number;
  p95: number;
  cpu50: number;
  cpu95: number;
  status: number;
}

/** The pages an OSO opens in a week's review: the last 7 days (a device's page: 30 days). */
export function reviewPages(someDevice: string): string[] {
  return [
    '/',
    '/signals?since=7d',
    '/blocked?since=7d',
    '/blocked?since=7d&q=tiktok',
    `/device?name=${someDevice}&since=30d`,
    '/devices?q=PH-00',
    '/reports?since=7d',
    '/reports/download?format=html&since=7d',
  ];
}

/**
 * Loads each page `reps` times at the console's clock `now`. Wall time, and the CPU time this
 * process spent: on a shared, loaded machine the CPU time is the steadier measure of a page's own
 * work (the wall time adds waiting for a core; on PostgreSQL it adds the server's work).
 */
export async function timePages(
  o: { storage: Storage; loaded: LoadedConfig; now: number; reps: number },
  pages: string[],
): Promise<Record<string, PageTimes>> {
  const log = pino({ level: 'warn' });
  const env = {
    storage: o.storage,
    loaded: o.loaded,
    log,
    now: () => o.now,
    proxies: [],
    secure: false,
  } as unknown as ConsoleEnv;
  const out: Record<string, PageTimes> = {};
  for (const url of pages) {
    const u = new URL(url, 'http://console.invalid');
    const route = ROUTES.find((r) => r.method === 'GET' && r.path === u.pathname);
    if (!route) throw new Error(`no console route GET ${u.pathname}`);
    const times: number[] = [];
    const cpus: number[] = [];
    let status = 0;
    for (let i = 0; i < o.reps; i++) {
      const res = {
        headersSent: false,
        setHeader() {},
        writeHead(s: number) {
          status = s;
        },
        end() {
          this.headersSent = true;
        },
      };
      const ctx = {
        url: u,
        res,
        req: { headers: {}, method: 'GET' },
        ip: '127.0.0.1',
        now: o.now,
        env,
        session: { user: 'bench', role: 'reviewer', csrf: 'x', userId: 1, createdAt: 0 },
        scope: TRUST_SCOPE, // a trust-wide reviewer (the console sets it from the account)
      } as unknown as RequestContext;
      const s = performance.now();
      const c = process.cpuUsage();
      await route.handler(ctx, []);
      const used = process.cpuUsage(c);
      times.push(performance.now() - s);
      cpus.push((used.user + used.system) / 1000);
    }
    times.sort((a, b) => a - b);
    cpus.sort((a, b) => a - b);
    const p95 = Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1);
    out[url] = {
      p50: times[Math.floor(times.length / 2)],
      p95: times[p95],
      cpu50: cpus[Math.floor(cpus.length / 2)],
      cpu95: cpus[p95],
      status,
    };
  }
  return out;
}

/** The page table as the benches print it. */
export function pageLines(times: Record<string, PageTimes>): string[] {
  const n = (x: number, w: number) => x.toFixed(0).padStart(w);
  return Object.entries(times).map(
    ([url, t]) =>
      `  ${url.padEnd(45)} p50 ${n(t.p50, 6)}  p95 ${n(t.p95, 6)}  cpu p50 ${n(t.cpu50, 5)}  p95 ${n(t.cpu95, 5)}  (HTTP ${t.status})`,
  );
}
