import { count } from '../text/plural.js';
import type { PartHealth } from '../storage/evidence.js';
import { formatDuration } from '../time/duration.js';
import { formatLocal } from '../time/local-time.js';
import { channelFailing, type DaemonState, type ReadyzBody } from './daemon-health.js';

/** One upstream as /readyz describes it. */
interface UpstreamHealth {
  upstream: string;
  transport: string;
  healthy: boolean;
  last: string | null;
  error: string | null;
}

/** What `webfilter status --json` prints (stable field names; times ISO-8601 UTC). */
export interface StatusResult {
  daemon: string;
  state: DaemonState;
  problems: string[];
  components: Record<string, PartHealth>;
  health: ReadyzBody | { status: 'unreachable'; reason: string } | null;
  database: string;
  pid: number | null;
  version: string | null;
  started_at: string | null;
  last_heartbeat: string | null;
  last_write: string | null;
  queue_dropped: number;
  write_errors: number;
  shipping: { backlog_rows: number; lag_seconds: number } | { error: string } | null;
  active_exceptions: { id: number; target: string; opens: string[]; expires_at: string }[];
  alerts: {
    channels: {
      channel: string;
      sent: number;
      failed: number;
      abandoned: number;
      queued: number;
      last_sent: string | null;
      last_failed: string | null;
      last_error: string | null;
    }[];
    last_digest_day: string | null;
  } | null;
}

const TRANSPORT_NAMES: Record<string, string> = { udp: 'plain DNS', tls: 'DNS over TLS', https: 'DNS over HTTPS' };

/** "name:" padded so every value starts in the same column ("database:    …"). */
const label = (name: string) => `${name}:`.padEnd(13);

/**
 * `webfilter status` for people: one line per thing, each at the same level ("evidence:", "shared:"
 * and "console:" are parts of the daemon, not of the upstream printed above them); only the daemon's
 * problems and the exceptions' lines are indented, under the line they belong to. Times in the
 * config's timezone. `digestAt`: alerts.digest.at, when a digest is configured.
 */
export function statusText(r: StatusResult, now: number, digestAt: string | null): string {
  const running = r.state !== 'not running' && r.pid !== null;
  const lines = [
    `${label('daemon')}${r.state}${running ? ` (pid ${r.pid}, version ${r.version}, up since ${formatLocal(Date.parse(r.started_at!))})` : ''}`,
  ];
  for (const p of r.problems) lines.push(`  problem:   ${p}`);
  if (r.health) {
    lines.push(`${label('readiness')}${r.health.status}${r.health.reason ? ` — ${r.health.reason}` : ''}`);
    for (const u of (r.health as { upstreams?: UpstreamHealth[] }).upstreams ?? []) {
      const how = u.healthy ? 'healthy' : `failing${u.last ? ` (last: ${u.last})` : ''}`;
      lines.push(
        `${label('upstream')}${u.upstream} [${TRANSPORT_NAMES[u.transport] ?? u.transport}] ${how}${u.error ? ` — ${u.error}` : ''}`,
      );
    }
  }
  for (const [name, c] of Object.entries(r.components)) lines.push(`${label(name)}${c.state}${c.detail ? ` — ${c.detail}` : ''}`);
  lines.push(`${label('database')}${r.database}`);
  if (r.last_write !== null) {
    lines.push(
      `${label('last write')}${formatLocal(Date.parse(r.last_write))}; ${count(r.queue_dropped, 'event')} dropped, ${count(r.write_errors, 'write error')}`,
    );
  }
  const ship = r.shipping;
  if (ship)
    lines.push(
      'error' in ship
        ? `${label('shipping')}unknown — ${ship.error}`
        : `${label('shipping')}${count(ship.backlog_rows, 'evidence row')} waiting for the shared store` +
            (ship.backlog_rows > 0 ? `, oldest change ${formatDuration(ship.lag_seconds * 1000)} ago` : ''),
    );
  lines.push(`${label('exceptions')}${r.active_exceptions.length} active`);
  for (const e of r.active_exceptions)
    lines.push(`  ${e.id}: ${e.opens.join(', ')} for ${e.target}, ${formatDuration(Date.parse(e.expires_at) - now)} left`);
  const al = r.alerts;
  if (al === null) lines.push(`${label('alerts')}off (no alerts section)`);
  else {
    if (al.channels.length === 0) lines.push(`${label('alerts')}configured; the daemon has not started them yet`);
    for (const c of al.channels) {
      const failing = channelFailing({
        lastSent: c.last_sent ? Date.parse(c.last_sent) : null,
        lastFailed: c.last_failed ? Date.parse(c.last_failed) : null,
      });
      lines.push(
        `${label('alerts')}${c.channel}: ${failing ? 'FAILING' : 'ok'} — ${c.sent} sent, ${c.failed} failed, ${c.abandoned} abandoned, ${c.queued} waiting since start` +
          (c.last_sent ? `; last sent ${formatLocal(Date.parse(c.last_sent))}` : '') +
          (failing ? `; last error ${formatLocal(Date.parse(c.last_failed!))}: ${c.last_error}` : ''),
      );
    }
    if (digestAt !== null)
      lines.push(
        `${label('digest')}daily at ${digestAt}; last sent for ${al.last_digest_day ? formatLocal(Date.parse(al.last_digest_day)).slice(0, 16) : 'no day yet'}`,
      );
  }
  lines.push(`${label('lists')}see \`webfilter lists show\``);
  return lines.join('\n') + '\n';
}
