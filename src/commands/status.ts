import { existsSync } from 'node:fs';
import { count } from '../text/plural.js';
import type { CommandModule } from 'yargs';
import { loadForCli, openStore, out } from './context.js';
import { json } from '../format/output.js';
import { formatDuration } from '../time/duration.js';
import { formatLocal } from '../time/local-time.js';

/** A heartbeat older than this means the daemon is not running (it beats every 10 s). */
const STALE_MS = 35_000;

/** `webfilter status`: is the daemon up, what it has loaded, exceptions, evidence store health. */
export const statusCommand: CommandModule<{ config: string; json: boolean }, { config: string; json: boolean }> = {
  command: 'status',
  describe: 'Is the daemon up? Lists loaded, active exceptions, last write, queue drops',
  builder: (y) => y.example('$0 status', 'Quick health check'),
  handler: async (a) => {
    const loaded = await loadForCli(a.config);
    const now = Date.now();
    const result: Record<string, unknown> = { database: loaded.databasePath };
    if (!existsSync(loaded.databasePath)) {
      result.daemon = 'never started (no database yet)';
    } else {
      const store = await openStore(loaded, { readOnly: true });
      const beat = await store.review.heartbeat();
      const exceptions = (await store.exceptions.current(now)).filter((e) => e.startsAt <= now);
      await store.close();
      const alive = !!beat && now - beat.lastSeen < STALE_MS && pidAlive(beat.pid);
      Object.assign(result, {
        daemon: alive ? 'running' : beat ? 'not running' : 'never started',
        pid: beat?.pid ?? null,
        version: beat?.version ?? null,
        started_at: beat ? new Date(beat.startedAt).toISOString() : null,
        last_heartbeat: beat ? new Date(beat.lastSeen).toISOString() : null,
        last_write: beat ? new Date(beat.lastWrite).toISOString() : null,
        queue_dropped: beat?.dropped ?? 0,
        write_errors: beat?.writeErrors ?? 0,
        active_exceptions: exceptions.map((e) => ({
          id: e.id,
          target: `${e.targetKind} ${e.target}`,
          opens: [...e.categories, ...e.domains],
          expires_at: new Date(e.expiresAt).toISOString(),
        })),
      });
    }
    const metrics = loaded.config.metrics;
    if (metrics.enabled) {
      result.health = await fetch(`http://${metrics.listen.replace('0.0.0.0', '127.0.0.1')}/readyz`, {
        signal: AbortSignal.timeout(2000),
      })
        .then(async (r) => (await r.json()) as { status: string; reason?: string })
        .catch(() => ({ status: 'unreachable', reason: `no answer from http://${metrics.listen}/readyz` }));
    }
    if (a.json) return out(json(result));
    const lines = [
      `daemon:      ${result.daemon}${result.pid ? ` (pid ${result.pid}, version ${result.version}, up since ${formatLocal(Date.parse(String(result.started_at)))})` : ''}`,
    ];
    if (result.health) {
      const h = result.health as { status: string; reason?: string; upstreams?: UpstreamHealth[] };
      lines.push(`readiness:   ${h.status}${h.reason ? ` — ${h.reason}` : ''}`);
      for (const u of h.upstreams ?? []) {
        const how = u.healthy ? 'healthy' : `failing${u.last ? ` (last: ${u.last})` : ''}`;
        lines.push(
          `upstream:    ${u.upstream} [${TRANSPORT_NAMES[u.transport] ?? u.transport}] ${how}${u.error ? ` — ${u.error}` : ''}`,
        );
      }
    }
    lines.push(`database:    ${loaded.databasePath}`);
    if (result.last_write)
      lines.push(
        `last write:  ${formatLocal(Date.parse(String(result.last_write)))}; ${count(Number(result.queue_dropped), 'event')} dropped, ${count(Number(result.write_errors), 'write error')}`,
      );
    const ex =
      (result.active_exceptions as { id: number; target: string; opens: string[]; expires_at: string }[] | undefined) ?? [];
    lines.push(`exceptions:  ${ex.length} active`);
    for (const e of ex)
      lines.push(`  ${e.id}: ${e.opens.join(', ')} for ${e.target}, ${formatDuration(Date.parse(e.expires_at) - now)} left`);
    lines.push('lists:       see `webfilter lists show`');
    out(lines.join('\n') + '\n');
  },
};

/** One upstream as /readyz describes it. */
interface UpstreamHealth {
  upstream: string;
  transport: string;
  healthy: boolean;
  last: string | null;
  error: string | null;
}

const TRANSPORT_NAMES: Record<string, string> = { udp: 'plain DNS', tls: 'DNS over TLS', https: 'DNS over HTTPS' };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
