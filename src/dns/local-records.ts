import { parseIp, type IpAddress } from '../net/ip.js';
import { normaliseDomain } from './name.js';
import { encodeName } from './name.js';
import { reverseName } from './reverse-name.js';

/** The records of one locally answered name, as RDATA ready to copy into a reply. */
export interface LocalRecord {
  /** The name as configured (forward names) or the reverse name (PTRs). */
  readonly name: string;
  readonly a: readonly Buffer[];
  readonly aaaa: readonly Buffer[];
  /** PTR targets (wire names): set on the reverse names of the configured addresses. */
  readonly ptr: readonly Buffer[];
  /** What the record holds, in words, for `webfilter check`: addresses, or the PTR targets. */
  readonly text: readonly string[];
}

interface Building {
  name: string;
  a: Buffer[];
  aaaa: Buffer[];
  ptr: Buffer[];
  text: string[];
}

/**
 * `local_records` compiled at load: each configured name with its addresses, and the reverse name
 * of each address with a PTR back to the name (several names on one address give several PTRs).
 * Looked up by the exact query name: one Map probe.
 */
export class LocalRecords {
  private readonly byName = new Map<string, LocalRecord>();
  /** Address (canonical text) → the first name configured for it, for device names. */
  private readonly nameByAddress = new Map<string, string>();

  constructor(records: Readonly<Record<string, string | readonly string[]>>) {
    const building = new Map<string, Building>();
    const entry = (name: string) => {
      let b = building.get(name);
      if (!b) building.set(name, (b = { name, a: [], aaaa: [], ptr: [], text: [] }));
      return b;
    };
    for (const [key, value] of Object.entries(records)) {
      const name = normaliseDomain(key);
      if (typeof name !== 'string') throw new Error(`local_records: ${name.error}`);
      for (const text of typeof value === 'string' ? [value] : value) {
        const ip = parseIp(text);
        if (!ip) throw new Error(`local_records.${key}: "${text}" is not an address`);
        const fwd = entry(name);
        (ip.family === 4 ? fwd.a : fwd.aaaa).push(Buffer.from(ip.bytes));
        fwd.text.push(text);
        const rev = entry(reverseName(ip));
        rev.ptr.push(encodeName(name));
        rev.text.push(name);
        if (!this.nameByAddress.has(addressKey(ip))) this.nameByAddress.set(addressKey(ip), name);
      }
    }
    for (const [name, b] of building) this.byName.set(name, b);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The local record of exactly this name (lower-case, no trailing dot), or undefined. */
  get(qname: string): LocalRecord | undefined {
    return this.byName.get(qname);
  }

  /** The configured name of an address ("10.0.12.5", "fd00::12:5"), or undefined. */
  nameOf(address: string): string | undefined {
    const ip = parseIp(address);
    if (!ip) return undefined;
    return this.nameByAddress.get(addressKey(ip));
  }
}

/** One spelling per address (dotted quad; full lower-case IPv6), for the address map's keys. */
function addressKey(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return b.join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i] << 8) | b[i + 1]).toString(16));
  return words.join(':');
}
