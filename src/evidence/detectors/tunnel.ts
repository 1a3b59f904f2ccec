import { SIGNAL_KINDS } from '../../signals/kinds.js';
import type { QueryEvent } from '../../observe/query-event.js';
import type { SignalRow } from '../../storage/evidence.js';
import { answered, type Detector, type EventFacts } from './detector.js';

export interface TunnelThresholds {
  window_seconds: number;
  unique_subdomains: number;
  min_encoded_length: number;
  txt_queries: number;
  long_label: number;
  entropy_bits: number;
  long_names: number;
}

interface Window {
  start: number;
  names: Set<string>;
  encodedChars: number;
  txtNames: Set<string>;
  longNames: number;
  fired: boolean;
}

/** Query types tunnels favour because they carry the most data back: NULL, TXT, ANY (and MX/CNAME less so). */
const DATA_TYPES = new Set([10, 16, 255]);
/** Unique names remembered per window; past this the count still grows but names are not kept. */
const NAMES_CAP = 20_000;
/**
 * Most (client, domain) windows held at once. A flood of unique registrable domains would otherwise
 * hold qps × window of them; beyond the cap the oldest window is forgotten (a tunnel uses one domain
 * for the whole window, so the windows it needs are the busy, recent ones).
 */
const WINDOWS_CAP = 200_000;

/** Shannon entropy of a string, bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * DNS-tunnelling heuristics per (client, registrable domain) over a sliding window. A tunnel
 * (iodine, dnscat2, DNS-based VPNs) encodes data in the labels before its domain, so it shows as
 * many unique, long names under one domain, bursts of TXT/NULL lookups, or long high-entropy labels.
 * Fires once per window with the count so far, then counts each further query into the same signal.
 */
export class TunnelDetector implements Detector {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly t: TunnelThresholds) {}

  observe(e: QueryEvent, facts: EventFacts): SignalRow | null {
    if (!answered(e)) return null;
    return this.track(e.at, e.client, facts.device, e.group, e.qname, e.qtype, facts.domain);
  }

  /** Counts one answered query of `client` for `qname` under `domain` into its window. */
  track(ts: number, client: string, device: string, grp: string, qname: string, qtype: number, domain: string): SignalRow | null {
    const key = `${client}\u0000${domain}`;
    let w = this.windows.get(key);
    if (!w || ts - w.start > this.t.window_seconds * 1000) {
      w = { start: ts, names: new Set(), encodedChars: 0, txtNames: new Set(), longNames: 0, fired: false };
      this.windows.delete(key); // re-insert at the young end
      if (this.windows.size >= WINDOWS_CAP) this.windows.delete(this.windows.keys().next().value!);
      this.windows.set(key, w);
    }
    const sub = qname.length > domain.length ? qname.slice(0, qname.length - domain.length - 1) : '';
    if (sub === '' || w.names.has(qname)) return null;
    if (w.names.size < NAMES_CAP) w.names.add(qname);
    const labels = sub.split('.');
    w.encodedChars += sub.length - (labels.length - 1);
    if (DATA_TYPES.has(qtype) && w.txtNames.size < NAMES_CAP) w.txtNames.add(qname);
    if (labels.some((l) => l.length >= this.t.long_label && entropy(l) >= this.t.entropy_bits)) w.longNames++;
    if (w.fired) return this.signal(ts, client, device, grp, qname, domain, 1, 'further unique names in the same tunnel window');
    const unique = w.names.size;
    let why = '';
    if (unique >= this.t.unique_subdomains && w.encodedChars / unique >= this.t.min_encoded_length) {
      why = `${unique} unique names under ${domain} in ${this.t.window_seconds}s, mean encoded part ${Math.round(w.encodedChars / unique)} chars`;
    } else if (w.txtNames.size >= this.t.txt_queries) {
      why = `${w.txtNames.size} TXT/NULL/ANY lookups of unique names under ${domain} in ${this.t.window_seconds}s`;
    } else if (w.longNames >= this.t.long_names) {
      why = `${w.longNames} names with long high-entropy labels under ${domain} in ${this.t.window_seconds}s`;
    }
    if (!why) return null;
    w.fired = true;
    return this.signal(ts, client, device, grp, qname, domain, unique, why);
  }

  /** Forgets windows that ended before `now` (bounded memory). */
  prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start > this.t.window_seconds * 1000) this.windows.delete(k);
  }

  private signal(
    ts: number,
    client: string,
    device: string,
    grp: string,
    qname: string,
    domain: string,
    count: number,
    detail: string,
  ): SignalRow {
    // The processor sets the event's user.
    return {
      ts,
      client,
      device,
      grp,
      kind: 'tunnel',
      severity: SIGNAL_KINDS.tunnel.severity,
      qname,
      domain,
      detail,
      count,
      user: '',
    };
  }
}
