import { existsSync } from 'node:fs';
import http from 'node:http';
import type { CommandModule } from 'yargs';
import type { LoadedConfig } from '../config/load.js';
import { json } from '../format/output.js';
import type { ChannelState } from '../storage/alert-state.js';
import type { ExceptionRecord } from '../storage/exceptions.js';
import type { HeartbeatRecord } from '../storage/evidence.js';
import { shippingBacklog, type ShippingStores } from '../storage/shipping.js';
import { loadForCli, openStore, out } from './context.js';
import { judgeHealth, STATUS_EXIT, type HealthInputs, type ReadyzBody } from './daemon-health.js';
import { statusText, type StatusResult } from './status-text.js';

/**
 * Asks the daemon's /readyz: where the heartbeat says the metrics listener is (the config may say
 * port 0), else where the config says. Null when the metrics listener is turned off.
 */
async function readyz(loaded: LoadedConfig, beat: HeartbeatRecord | null): Promise<HealthInputs['readyz']> {
  const { metrics } = loaded.config;
  if (!metrics.enabled) return null;
  const bound = beat?.components.metrics?.state === 'up' ? beat.components.metrics.detail.replace(/\/metrics$/, '') : null;
  const url = `${bound ?? `http://${metrics.listen.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]')}`}/readyz`;
  return new Promise((resolve) => {
    const unreachable = () => resolve({ answered: false, reason: `no answer from ${url}` });
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try {
          resolve({ answered: true, body: JSON.parse(body) as ReadyzBody });
        } catch {
          unreachable();
        }
      });
      res.on('error', unreachable);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', unreachable);
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `webfilter status`: is the daemon up and whole — DNS ready, console, metrics and evidence store
 * working — with the evidence store's counters and the exceptions in force. Exit code 0 healthy,
 * 1 degraded (running, something wrong), 2 not running, for monitoring scripts.
 */
export const statusCommand: CommandModule<{ config: string; json: boolean }, { config: string; json: boolean }> = {
  command: 'status',
  describe: 'Is the daemon up and whole? Exit 0 healthy, 1 degraded, 2 not running',
  builder: (y) =>
    y
      .example('$0 status', 'Quick health check')
      .example('$0 status --json || echo "webfilter needs attention (exit $?)"', 'From a monitoring script'),
  handler: async (a) => {
    const loaded = await loadForCli(a.config, { fallback: true });
    const now = Date.now();
    let beat: HeartbeatRecord | null = null;
    let exceptions: ExceptionRecord[] = [];
    let channels: ChannelState[] = [];
    let digestDay: number | null = null;
    let shipping: StatusResult['shipping'] = null;
    if (existsSync(loaded.databasePath)) {
      const store = await openStore(loaded, { readOnly: true });
      const ship = (store as { shipping?: ShippingStores }).shipping;
      if (ship) {
        try {
          const b = shippingBacklog(ship, now);
          shipping = { backlog_rows: b.rows, lag_seconds: Math.round(b.lagSeconds) };
        } catch (e) {
          shipping = { error: (e as Error).message };
        }
      }
      beat = await store.review.heartbeat();
      exceptions = (await store.exceptions.current(now)).filter((e) => e.startsAt <= now);
      if (loaded.config.alerts) channels = await store.alertState.channels();
      if (loaded.config.alerts?.digest) digestDay = await store.alertState.lastDigestDay();
      await store.close();
    }
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const ready = await readyz(loaded, beat);
    const health = judgeHealth({
      now,
      heartbeat: beat,
      pidAlive: beat ? pidAlive(beat.pid) : false,
      readyz: ready,
      alertChannels: channels,
    });
    process.exitCode = STATUS_EXIT[health.state];
    const result: StatusResult = {
      daemon: health.state === 'not running' ? (beat ? 'not running' : 'never started') : 'running',
      state: health.state,
      problems: health.problems,
      components: health.components,
      health: ready?.answered ? ready.body : ready ? { status: 'unreachable', reason: ready.reason } : null,
      database: loaded.databasePath,
      pid: beat?.pid ?? null,
      version: beat?.version ?? null,
      started_at: beat ? new Date(beat.startedAt).toISOString() : null,
      last_heartbeat: beat ? new Date(beat.lastSeen).toISOString() : null,
      last_write: beat ? new Date(beat.lastWrite).toISOString() : null,
      queue_dropped: beat?.dropped ?? 0,
      write_errors: beat?.writeErrors ?? 0,
      shipping,
      active_exceptions: exceptions.map((e) => ({
        id: e.id,
        target: `${e.targetKind} ${e.target}`,
        opens: [...e.categories, ...e.domains],
        expires_at: new Date(e.expiresAt).toISOString(),
      })),
      alerts: loaded.config.alerts
        ? {
            channels: channels.map((c) => ({
              channel: c.channel,
              sent: c.sent,
              failed: c.failed,
              abandoned: c.abandoned,
              queued: c.queued,
              last_sent: iso(c.lastSent),
              last_failed: iso(c.lastFailed),
              last_error: c.lastError,
            })),
            last_digest_day: iso(digestDay),
          }
        : null,
    };
    if (a.json) return out(json(result));
    out(statusText(result, now, loaded.config.alerts?.digest?.at ?? null));
  },
};
