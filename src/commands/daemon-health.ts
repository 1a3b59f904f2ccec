import type { ChannelState } from '../storage/alert-state.js';
import type { HeartbeatRecord, PartHealth } from '../storage/evidence.js';
import { formatLocal } from '../time/local-time.js';

/** What `webfilter status` concludes, and its exit code (for monitoring scripts). */
export type DaemonState = 'healthy' | 'degraded' | 'not running';
export const STATUS_EXIT: Record<DaemonState, number> = { healthy: 0, degraded: 1, 'not running': 2 };

/** A heartbeat older than this means the daemon is not running (it beats every 10 s). */
export const STALE_MS = 35_000;

/** /readyz's answer as the daemon gives it. */
export interface ReadyzBody {
  status: 'ready' | 'degraded' | 'not ready';
  reason?: string;
  degraded?: string[];
  components?: Record<string, PartHealth>;
}

export interface HealthInputs {
  now: number;
  heartbeat: HeartbeatRecord | null;
  /** Whether the heartbeat's process exists. */
  pidAlive: boolean;
  /** /readyz: its answer, why there was none, or null when `metrics.enabled` is off. */
  readyz: { answered: true; body: ReadyzBody } | { answered: false; reason: string } | null;
  /** The alert channels' delivery state (none when alerts are off). */
  alertChannels?: ChannelState[];
}

/** A channel whose last attempt failed (nothing sent since): the DSL is not being told. */
export function channelFailing(c: Pick<ChannelState, 'lastSent' | 'lastFailed'>): boolean {
  return c.lastFailed !== null && (c.lastSent === null || c.lastFailed > c.lastSent);
}

export interface Health {
  state: DaemonState;
  /** Each thing wrong, for people ("console: console.listen: listen EADDRINUSE …"). */
  problems: string[];
  /** The optional parts as last reported (by /readyz, else by the heartbeat). */
  components: Record<string, PartHealth>;
}

/**
 * Running: a fresh heartbeat from a live process, or an answer from /readyz. Healthy: running,
 * ready (an upstream answers), every optional part that is on is up and no alert channel is failing
 * (an alert that cannot reach the safeguarding lead is a safeguarding failure, not a detail).
 * Anything else running is degraded, with a problem named for each thing wrong.
 */
export function judgeHealth(i: HealthInputs): Health {
  const beat = i.heartbeat;
  const beating = beat !== null && i.now - beat.lastSeen < STALE_MS && i.pidAlive;
  const answered = i.readyz?.answered === true;
  const body = i.readyz?.answered ? i.readyz.body : null;
  const components = body?.components ?? (beating ? beat.components : {});
  if (!beating && !answered) {
    const why = !beat
      ? 'it has never run with this database'
      : `no heartbeat since ${formatLocal(beat.lastSeen)}${i.pidAlive ? '' : ` and process ${beat.pid} is gone`}`;
    return { state: 'not running', problems: [why], components: {} };
  }
  const problems: string[] = [];
  if (body?.status === 'not ready') problems.push(body.reason ?? 'not ready');
  for (const [name, c] of Object.entries(components)) if (c.state === 'down') problems.push(`${name}: ${c.detail}`);
  if (i.readyz && !i.readyz.answered && components.metrics?.state !== 'down') problems.push(`metrics: ${i.readyz.reason}`);
  if (!beating && components.evidence?.state !== 'down') {
    problems.push(
      `evidence: ${beat ? `no heartbeat written since ${formatLocal(beat.lastSeen)}` : 'no heartbeat written yet'} (can the daemon write its database?)`,
    );
  }
  for (const c of i.alertChannels ?? []) {
    if (channelFailing(c)) {
      problems.push(`alerts: ${c.channel} failing since ${formatLocal(c.lastFailed!)}${c.lastError ? ` (${c.lastError})` : ''}`);
    }
  }
  return { state: problems.length > 0 ? 'degraded' : 'healthy', problems, components };
}
