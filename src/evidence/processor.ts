import { getDomain } from 'tldts';
import { typeName } from '../dns/constants.js';
import type { QueryEvent } from '../observe/query-event.js';
import type { Severity } from '../policy/categories.js';
import { DeviceNames } from './devices.js';
import { PersistentAttemptsDetector, type PersistentThresholds } from './detectors/persistent.js';
import { TunnelDetector, type TunnelThresholds } from './detectors/tunnel.js';
import type { AccessAggregate, Rows, SignalRow } from './rows.js';

export interface ProcessorConfig {
  access: 'aggregate' | 'full' | 'off';
  tunnel: TunnelThresholds & { enabled: boolean };
  persistent: PersistentThresholds & { enabled: boolean };
}

const SEVERITY: Record<string, Severity> = {
  'encrypted-dns': 'high',
  'vpn-proxy': 'high',
  'doh-canary': 'low',
  'private-relay': 'medium',
  ddr: 'low',
};

const DETAIL: Record<string, string> = {
  'encrypted-dns': 'lookup of an encrypted-DNS resolver (DoH/DoT/DoQ); blocked',
  'vpn-proxy': 'lookup of a VPN, proxy or anonymiser service; blocked',
  'doh-canary': 'Firefox DoH canary; answered NXDOMAIN so it keeps using the school DNS',
  'private-relay': 'iCloud Private Relay; answered NXDOMAIN so it turns off on this network',
  ddr: 'encrypted-resolver discovery (RFC 9462); answered NODATA',
};

/** Registrable domain ("www.bbc.co.uk" → "bbc.co.uk"); the name itself when it has none. */
export function registrableDomain(qname: string): string {
  return getDomain(qname) ?? qname;
}

/**
 * Turns query events into evidence rows: blocked attempts, circumvention signals (from the rules
 * that matched and from the tunnel and repeated-attempt detectors, whose state spans batches) and
 * the access log (hourly aggregates, or one row per query). Runs in the writer thread.
 */
export class EvidenceProcessor {
  private readonly tunnel: TunnelDetector | null;
  private readonly persistent: PersistentAttemptsDetector | null;
  private lastPrune = 0;

  constructor(
    private readonly cfg: ProcessorConfig,
    private readonly devices: DeviceNames,
  ) {
    this.tunnel = cfg.tunnel.enabled ? new TunnelDetector(cfg.tunnel) : null;
    this.persistent = cfg.persistent.enabled ? new PersistentAttemptsDetector(cfg.persistent) : null;
  }

  process(events: readonly QueryEvent[]): Rows {
    const rows: Rows = { blocked: [], signals: [], accessHourly: [], access: [] };
    const hourly = new Map<string, AccessAggregate>();
    const push = (s: SignalRow | null) => s && rows.signals.push(s);
    for (const e of events) {
      if (e.kind === 'blocked') {
        const device = this.devices.name(e.client);
        const qtype = typeName(e.qtype);
        if (e.recordBlocked) {
          rows.blocked.push({
            ts: e.at,
            client: e.client,
            device,
            grp: e.group,
            qname: e.qname,
            qtype,
            category: e.reason,
            entry: e.entry,
            response: e.response,
            transport: e.transport,
            via: e.via,
          });
          push(this.persistent?.observe(e.at, e.client, device, e.group, e.qname, e.reason) ?? null);
        }
        if (e.signal) {
          push({
            ts: e.at,
            client: e.client,
            device,
            grp: e.group,
            kind: e.signal,
            severity: SEVERITY[e.signal] ?? 'medium',
            qname: e.qname,
            domain: registrableDomain(e.qname),
            detail: `${DETAIL[e.signal] ?? e.signal} (${qtype}, list entry ${e.entry})`,
            count: 1,
          });
        }
      } else if (e.kind === 'forwarded' || e.kind === 'cached' || e.kind === 'exception') {
        if (!this.tunnel && this.cfg.access === 'off') continue;
        const device = this.devices.name(e.client);
        const domain = registrableDomain(e.qname);
        push(this.tunnel?.observe(e.at, e.client, device, e.group, e.qname, e.qtype, domain) ?? null);
        if (this.cfg.access === 'full') {
          rows.access.push({
            ts: e.at,
            client: e.client,
            device,
            grp: e.group,
            qname: e.qname,
            qtype: typeName(e.qtype),
            result: e.kind,
          });
        } else if (this.cfg.access === 'aggregate') {
          const hour = Math.floor(e.at / 3_600_000);
          const key = `${hour}\u0000${e.client}\u0000${device}\u0000${e.group}\u0000${domain}`;
          const agg = hourly.get(key);
          if (agg) {
            agg.count++;
            agg.lastTs = Math.max(agg.lastTs, e.at);
            agg.firstTs = Math.min(agg.firstTs, e.at);
          } else {
            hourly.set(key, { hour, client: e.client, device, grp: e.group, domain, count: 1, firstTs: e.at, lastTs: e.at });
          }
        }
      }
    }
    rows.accessHourly = [...hourly.values()];
    const last = events.length > 0 ? events[events.length - 1].at : 0;
    if (last - this.lastPrune > 60_000) {
      this.tunnel?.prune(last);
      this.persistent?.prune(last);
      this.lastPrune = last;
    }
    return rows;
  }
}
