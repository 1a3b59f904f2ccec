import { signalKind } from '../signals/kinds.js';
import type { SignalRow } from '../storage/evidence.js';

/**
 * A signal as alerting sees it: what the evidence writer found for one device and one kind in one
 * batch, its occurrences summed. Only the kinds `alerts.immediate` names are handed over, so a busy
 * school's ordinary signals cost alerting nothing. Times are ms since the Unix epoch.
 */
export interface AlertSignal {
  client: string;
  /** The device's name ("" when unknown). */
  device: string;
  group: string;
  /** The person signed in on the device, when identity knows ("" otherwise). */
  user: string;
  kind: string;
  severity: string;
  /** The first name looked up, and its registrable domain (or the category, for repeated attempts). */
  qname: string;
  domain: string;
  detail: string;
  count: number;
  firstTs: number;
  lastTs: number;
}

/** `alerts.immediate` compiled: a signal alerts at once when its kind or its severity is listed. */
export class ImmediateFilter {
  private readonly entries: Set<string>;

  constructor(entries: readonly string[]) {
    this.entries = new Set(entries);
  }

  matches(kind: string, severity: string): boolean {
    return this.entries.has(kind) || this.entries.has(severity);
  }

  /** The entries, for the writer thread's settings. */
  get list(): string[] {
    return [...this.entries];
  }
}

/**
 * The batch's signals that alert at once, one per (client, kind) with counts summed and the first
 * name kept. Runs in the evidence writer thread, per batch; cheap when nothing matches.
 */
export function alertSignals(rows: readonly SignalRow[], filter: ImmediateFilter): AlertSignal[] {
  const by = new Map<string, AlertSignal>();
  for (const r of rows) {
    if (!filter.matches(r.kind, r.severity)) continue;
    const key = `${r.client}\u0000${r.kind}`;
    const cur = by.get(key);
    if (cur) {
      cur.count += r.count;
      cur.firstTs = Math.min(cur.firstTs, r.ts);
      cur.lastTs = Math.max(cur.lastTs, r.ts);
      if (!cur.device && r.device) cur.device = r.device;
      if (!cur.user && r.user) cur.user = r.user;
    } else {
      by.set(key, {
        client: r.client,
        device: r.device,
        group: r.grp,
        user: r.user,
        kind: r.kind,
        severity: r.severity,
        qname: r.qname,
        domain: r.domain,
        detail: r.detail,
        count: r.count,
        firstTs: r.ts,
        lastTs: r.ts,
      });
    }
  }
  return [...by.values()];
}

/** The registry's plain-words description of a kind (the kind itself for one it does not know). */
export function describeKind(kind: string): string {
  return signalKind(kind)?.description ?? kind;
}
