import { SIGNAL_KINDS } from '../../signals/kinds.js';
import type { QueryEvent } from '../../observe/query-event.js';
import type { SignalRow } from '../../storage/evidence.js';
import type { Detector, EventFacts } from './detector.js';

export interface PersistentThresholds {
  threshold: number;
  window_minutes: number;
}

interface Track {
  times: number[];
  lastFired: number;
}

/**
 * One client blocked at least `threshold` times for one category within `window_minutes`: one
 * `persistent-attempts` signal per window (it fires again only once a full window has passed).
 */
export class PersistentAttemptsDetector implements Detector {
  private readonly tracks = new Map<string, Track>();

  constructor(private readonly t: PersistentThresholds) {}

  observe(e: QueryEvent, facts: EventFacts): SignalRow | null {
    // Blocked attempts that are recorded as such (answer rules only signal).
    if (e.kind !== 'blocked' || !e.recordBlocked) return null;
    return this.track(e.at, e.client, facts.device, e.group, e.qname, e.reason);
  }

  /** Counts one blocked attempt of `client` for `category`. */
  track(ts: number, client: string, device: string, grp: string, qname: string, category: string): SignalRow | null {
    const windowMs = this.t.window_minutes * 60_000;
    const key = `${client}\u0000${category}`;
    let tr = this.tracks.get(key);
    if (!tr) {
      tr = { times: [], lastFired: -Infinity };
      this.tracks.set(key, tr);
    }
    tr.times.push(ts);
    while (tr.times.length > 0 && tr.times[0] <= ts - windowMs) tr.times.shift();
    if (tr.times.length > this.t.threshold) tr.times.shift(); // only the last `threshold` matter
    if (tr.times.length < this.t.threshold || ts - tr.lastFired < windowMs) return null;
    tr.lastFired = ts;
    return {
      ts,
      client,
      device,
      grp,
      kind: 'persistent-attempts',
      severity: SIGNAL_KINDS['persistent-attempts'].severity,
      qname,
      domain: category,
      detail: `${tr.times.length} blocked lookups for ${category} within ${this.t.window_minutes} min`,
      count: tr.times.length,
      user: '', // the processor sets the event's user
    };
  }

  prune(now: number): void {
    const windowMs = this.t.window_minutes * 60_000;
    for (const [k, tr] of this.tracks) {
      if (tr.times.length === 0 || tr.times[tr.times.length - 1] <= now - windowMs) {
        if (now - tr.lastFired >= windowMs) this.tracks.delete(k);
      }
    }
  }
}
