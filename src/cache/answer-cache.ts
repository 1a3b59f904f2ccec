import { FLAG, HEADER_SIZE, RCODE } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import type { ReplyFacts } from '../dns/reply.js';

/**
 * An entry is one Latin-1 string: the reply's bytes as received (TTLs capped to the entry's
 * lifetime), then a trailer of the TTL fields' offsets (2 bytes each), their count (2), the time it
 * was stored (6, ms) and its lifetime (4, s). One flat string per entry and no other object: a Buffer
 * per entry cost ~1.2 KB (object headers, arrays of offsets, and 8 KB pool slabs kept alive by a
 * few live slices among short-lived ones); this costs the reply's length plus ~30 bytes.
 */
const TRAILER = 12;

export interface CacheLimits {
  maxEntries: number;
  maxTtl: number;
  maxNegativeTtl: number;
}

/** Milliseconds clock; injectable for tests. */
export type Clock = () => number;

/**
 * Answer cache holding upstream replies as wire bytes, keyed by (qname lower-cased, qtype, qclass,
 * EDNS present, DO bit, CD bit). Hits are copies with the client's ID, RD bit and question bytes
 * (0x20 case) put back and every TTL decremented by the seconds elapsed. Bounded, least recently used out.
 */
export class AnswerCache {
  private readonly map = new Map<string, string>();
  hits = 0;
  misses = 0;

  constructor(
    private limits: CacheLimits,
    private readonly now: Clock = Date.now,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** Applies new limits (at reload), evicting the oldest entries if the cache is now too big. */
  setLimits(limits: CacheLimits): void {
    this.limits = limits;
    this.evict();
  }

  /** Cache key: no EDNS / EDNS / EDNS+DO / CD each see their own answer. */
  static key(q: ParsedQuery): string {
    const flags = (q.edns ? 1 : 0) | (q.edns?.dnssecOk ? 2 : 0) | (q.flags & FLAG.CD ? 4 : 0);
    return `${q.qname}|${q.qtype}|${q.qclass}|${flags}`;
  }

  /** A ready-to-send reply for this query, or null. */
  get(key: string, query: Buffer, q: ParsedQuery): Buffer | null {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return null;
    }
    const end = e.length - TRAILER;
    const storedAt = byte(e, end + 2) * 2 ** 40 + byte(e, end + 3) * 2 ** 32 + uint32(e, end + 4);
    const lifetime = uint32(e, end + 8);
    const elapsed = Math.floor((this.now() - storedAt) / 1000);
    if (elapsed >= lifetime) {
      this.map.delete(key);
      this.misses++;
      return null;
    }
    // Refresh recency: a Map iterates in insertion order, so re-inserting moves it to the young end.
    this.map.delete(key);
    this.map.set(key, e);
    this.hits++;
    const count = (byte(e, end) << 8) | byte(e, end + 1);
    const length = end - 2 * count;
    const out = Buffer.allocUnsafe(length);
    out.write(e, 0, length, 'latin1');
    out.writeUInt16BE(q.id, 0);
    out.writeUInt16BE((out.readUInt16BE(2) & ~FLAG.RD) | (q.flags & FLAG.RD), 2);
    query.copy(out, HEADER_SIZE, HEADER_SIZE, q.questionEnd);
    for (let i = length; i < end; i += 2) {
      const off = (byte(e, i) << 8) | byte(e, i + 1);
      const t = out.readUInt32BE(off) - elapsed;
      out.writeUInt32BE(t > 0 ? t : 0, off);
    }
    return out;
  }

  /**
   * Stores an upstream reply if it is cacheable: NOERROR with answers (lifetime = smallest TTL), or
   * NXDOMAIN/NODATA with an SOA (RFC 2308 §5: lifetime = min(SOA TTL, MINIMUM)). Never truncated
   * replies, other rcodes, or zero lifetimes.
   */
  set(key: string, reply: Buffer, facts: ReplyFacts): void {
    if (this.limits.maxEntries === 0 || facts.truncated) return;
    let lifetime: number;
    if (facts.rcode === RCODE.NOERROR && facts.answerCount > 0) {
      lifetime = Math.min(facts.minTtl, this.limits.maxTtl);
    } else if (facts.rcode === RCODE.NXDOMAIN || (facts.rcode === RCODE.NOERROR && facts.answerCount === 0)) {
      if (facts.negativeTtl === null) return; // RFC 2308 §5: no SOA, no negative caching
      lifetime = Math.min(facts.negativeTtl, facts.minTtl, this.limits.maxNegativeTtl);
    } else {
      return;
    }
    if (!(lifetime > 0)) return;
    const offsets = facts.ttlOffsets;
    const end = reply.length + 2 * offsets.length;
    const packed = Buffer.allocUnsafe(end + TRAILER);
    reply.copy(packed, 0);
    for (let i = 0; i < offsets.length; i++) {
      const off = offsets[i];
      packed.writeUInt32BE(Math.min(packed.readUInt32BE(off), lifetime), off);
      packed.writeUInt16BE(off, reply.length + 2 * i);
    }
    packed.writeUInt16BE(offsets.length, end);
    packed.writeUIntBE(this.now(), end + 2, 6);
    packed.writeUInt32BE(lifetime, end + 8);
    this.map.delete(key);
    this.map.set(key, packed.toString('latin1'));
    this.evict();
  }

  /** Drops everything (e.g. when the upstreams change). */
  clear(): void {
    this.map.clear();
  }

  private evict(): void {
    while (this.map.size > this.limits.maxEntries) {
      this.map.delete(this.map.keys().next().value!);
    }
  }
}

function byte(s: string, i: number): number {
  return s.charCodeAt(i);
}

function uint32(s: string, i: number): number {
  return ((s.charCodeAt(i) << 24) | (s.charCodeAt(i + 1) << 16) | (s.charCodeAt(i + 2) << 8) | s.charCodeAt(i + 3)) >>> 0;
}
