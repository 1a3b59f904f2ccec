import { FLAG, HEADER_SIZE, RCODE } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import type { ReplyFacts } from '../dns/reply.js';

interface Entry {
  /** The reply as received, TTLs capped to the entry's lifetime. */
  wire: Buffer;
  storedAt: number;
  /** Seconds the entry lives. */
  lifetime: number;
  ttlOffsets: number[];
  ttls: number[];
}

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
  private readonly map = new Map<string, Entry>();
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
    const elapsed = Math.floor((this.now() - e.storedAt) / 1000);
    if (elapsed >= e.lifetime) {
      this.map.delete(key);
      this.misses++;
      return null;
    }
    // Refresh recency: a Map iterates in insertion order, so re-inserting moves it to the young end.
    this.map.delete(key);
    this.map.set(key, e);
    this.hits++;
    const out = Buffer.allocUnsafe(e.wire.length);
    e.wire.copy(out);
    out.writeUInt16BE(q.id, 0);
    out.writeUInt16BE((out.readUInt16BE(2) & ~FLAG.RD) | (q.flags & FLAG.RD), 2);
    query.copy(out, HEADER_SIZE, HEADER_SIZE, q.questionEnd);
    for (let i = 0; i < e.ttlOffsets.length; i++) {
      const t = e.ttls[i] - elapsed;
      out.writeUInt32BE(t > 0 ? t : 0, e.ttlOffsets[i]);
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
    const wire = Buffer.from(reply);
    const ttls = facts.ttlOffsets.map((off) => {
      const t = Math.min(wire.readUInt32BE(off), lifetime);
      wire.writeUInt32BE(t, off);
      return t;
    });
    this.map.delete(key);
    this.map.set(key, { wire, storedAt: this.now(), lifetime, ttlOffsets: facts.ttlOffsets, ttls });
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
