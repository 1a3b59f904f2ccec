import { getDomain } from 'tldts';
import { typeName } from '../dns/constants.js';
import type { QueryEvent } from '../observe/query-event.js';
import { signalKind } from '../signals/kinds.js';
import { DeviceNames } from './devices.js';
import type { Detector, EventFacts } from './detectors/detector.js';
import { buildDetectors, type CircumventionSettings } from './detectors/index.js';
import { blockedKey, type AccessAggregate, type BlockedRow, type Rows } from '../storage/evidence.js';

export interface ProcessorConfig {
  access: 'aggregate' | 'full' | 'off';
  /**
   * Repeats of a blocked attempt this long after the last one (ms: the collapse window plus the
   * block answer's TTL, when a device asks again) are counted on one row; 0: a row per attempt.
   */
  collapseMs: number;
  /** The `circumvention:` section: which detectors run, with their thresholds. */
  circumvention: CircumventionSettings;
}

/** How often (in event time) the detectors forget old state. */
const PRUNE_EVERY_MS = 60_000;

/** Registrable domain ("www.bbc.co.uk" → "bbc.co.uk"); the name itself when it has none. */
export function registrableDomain(qname: string): string {
  return getDomain(qname) ?? qname;
}

/** The facts of one event, each worked out on first use; one object reused for every event. */
class Facts implements EventFacts {
  private e!: QueryEvent;
  private dev: string | null = null;
  private dom: string | null = null;

  constructor(private readonly devices: DeviceNames) {}

  reset(e: QueryEvent): this {
    this.e = e;
    this.dev = null;
    this.dom = null;
    return this;
  }

  get device(): string {
    return (this.dev ??= this.devices.name(this.e.client));
  }

  get domain(): string {
    return (this.dom ??= registrableDomain(this.e.qname));
  }
}

/**
 * Turns query events into evidence rows: blocked attempts, circumvention signals (from the rules
 * that matched, and from the detectors, whose state spans batches) and the access log (hourly
 * aggregates, or one row per query). Runs in the writer thread.
 */
export class EvidenceProcessor {
  private readonly detectors: Detector[];
  private readonly facts: Facts;
  private lastPrune = 0;

  constructor(
    private readonly cfg: ProcessorConfig,
    devices: DeviceNames,
  ) {
    this.detectors = buildDetectors(cfg.circumvention);
    this.facts = new Facts(devices);
  }

  process(events: readonly QueryEvent[]): Rows {
    const rows: Rows = { blocked: [], signals: [], accessHourly: [], access: [] };
    const hourly = new Map<string, AccessAggregate>();
    const open = new Map<string, BlockedRow>();
    for (const e of events) {
      const facts = this.facts.reset(e);
      if (e.kind === 'blocked' && e.recordBlocked) {
        const row: BlockedRow = {
          ts: e.at,
          lastTs: e.at,
          count: 1,
          joinMs: this.cfg.collapseMs,
          client: e.client,
          device: facts.device,
          grp: e.group,
          qname: e.qname,
          qtype: typeName(e.qtype),
          category: e.reason,
          entry: e.entry,
          response: e.response,
          transport: e.transport,
          via: e.via,
          user: e.user,
        };
        // Repeats within the batch are counted here; the writer joins them to rows already stored.
        const key = blockedKey(row);
        const prev = open.get(key);
        if (prev && row.joinMs > 0 && row.ts >= prev.ts && row.ts - prev.lastTs <= row.joinMs) {
          prev.count++;
          prev.lastTs = Math.max(prev.lastTs, row.ts);
        } else {
          open.set(key, row);
          rows.blocked.push(row);
        }
      }
      for (const d of this.detectors) {
        const s = d.observe(e, facts);
        if (s) rows.signals.push({ ...s, user: e.user });
      }
      if (e.kind === 'blocked' && e.signal) {
        const kind = signalKind(e.signal);
        rows.signals.push({
          ts: e.at,
          client: e.client,
          device: facts.device,
          grp: e.group,
          kind: e.signal,
          severity: kind?.severity ?? 'medium',
          qname: e.qname,
          domain: facts.domain,
          detail: `${kind?.description ?? e.signal} (${typeName(e.qtype)}, list entry ${e.entry}${e.via ? `, via ${e.via}` : ''})`,
          count: 1,
          user: e.user,
        });
      } else if ((e.kind === 'forwarded' || e.kind === 'cached' || e.kind === 'exception') && this.cfg.access !== 'off') {
        if (this.cfg.access === 'full') {
          rows.access.push({
            ts: e.at,
            client: e.client,
            device: facts.device,
            grp: e.group,
            qname: e.qname,
            qtype: typeName(e.qtype),
            result: e.kind,
            user: e.user,
          });
        } else {
          const hour = Math.floor(e.at / 3_600_000);
          const key = `${hour}\u0000${e.client}\u0000${facts.device}\u0000${e.group}\u0000${e.user}\u0000${facts.domain}`;
          const agg = hourly.get(key);
          if (agg) {
            agg.count++;
            agg.lastTs = Math.max(agg.lastTs, e.at);
            agg.firstTs = Math.min(agg.firstTs, e.at);
          } else {
            hourly.set(key, {
              hour,
              client: e.client,
              device: facts.device,
              grp: e.group,
              domain: facts.domain,
              count: 1,
              firstTs: e.at,
              lastTs: e.at,
              user: e.user,
            });
          }
        }
      }
    }
    rows.accessHourly = [...hourly.values()];
    const last = events.length > 0 ? events[events.length - 1].at : 0;
    if (last - this.lastPrune > PRUNE_EVERY_MS) {
      for (const d of this.detectors) d.prune(last);
      this.lastPrune = last;
    }
    return rows;
  }
}
