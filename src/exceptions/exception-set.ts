import { maskBytes, parseCidr, type Cidr } from '../net/cidr.js';
import { parseIp } from '../net/ip.js';
import type { ExceptionRecord } from '../storage/exceptions.js';

/** One exception, compiled for matching. */
export interface ActiveException {
  readonly record: ExceptionRecord;
  readonly categories: ReadonlySet<string>;
  readonly cidr: Cidr | null;
}

const NONE: readonly ActiveException[] = Object.freeze([]);

/**
 * The exceptions the daemon knows of (not revoked, not expired when loaded), compiled for lookup.
 * Whether one applies is decided per query against the clock, so an exception starts and stops at
 * its exact times without a reload.
 */
export class ExceptionSet {
  static readonly EMPTY = new ExceptionSet([]);
  private readonly byGroup = new Map<string, ActiveException[]>();
  private readonly byClient: ActiveException[] = [];
  readonly size: number;

  constructor(records: readonly ExceptionRecord[]) {
    for (const record of records) {
      const e: ActiveException = {
        record,
        categories: new Set(record.categories),
        cidr: record.targetKind === 'client' ? parseCidr(record.target) : null,
      };
      if (e.cidr) this.byClient.push(e);
      else this.byGroup.set(record.target, [...(this.byGroup.get(record.target) ?? []), e]);
    }
    this.size = records.length;
  }

  /** Exceptions in force at `now` for a client (by its group, or by its address). Empty when none. */
  applicable(group: string, address: string, now: number): readonly ActiveException[] {
    if (this.size === 0) return NONE;
    const live = (e: ActiveException) => e.record.startsAt <= now && now < e.record.expiresAt;
    const out = (this.byGroup.get(group) ?? []).filter(live);
    if (this.byClient.length > 0) {
      const ip = parseIp(address);
      if (ip) {
        for (const e of this.byClient) {
          const c = e.cidr!;
          if (c.family === ip.family && live(e) && maskBytes(ip.bytes, c.prefix).every((b, i) => b === c.bytes[i])) out.push(e);
        }
      }
    }
    return out;
  }

  /** Exceptions in force at `now`, counted by target (group name, or "client" for address exceptions). */
  activeCounts(now: number): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (e: ActiveException, key: string) => {
      if (e.record.startsAt <= now && now < e.record.expiresAt) counts.set(key, (counts.get(key) ?? 0) + 1);
    };
    for (const [g, list] of this.byGroup) for (const e of list) add(e, g);
    for (const e of this.byClient) add(e, 'client');
    return counts;
  }
}

/** True when `qname` is `domain` or one of its subdomains. */
export function underDomain(qname: string, domain: string): boolean {
  return (
    qname === domain ||
    (qname.length > domain.length && qname.endsWith(domain) && qname[qname.length - domain.length - 1] === '.')
  );
}
