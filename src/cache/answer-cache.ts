import { FLAG, OPT_FIXED_SIZE, RCODE } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import { forClient, type StoredAnswer } from '../dns/relay.js';

/**
 * An entry is one Latin-1 string: the stored answer's body (the upstream's reply without its OPT,
 * TTLs capped to the entry's lifetime), its EDE options, its chain names (see ReplyFacts.chain),
 * the TTL fields' offsets (2 bytes each), then a trailer: the offsets' count (2), EDE length (2),
 * chain length (2), the time it was stored (6, ms) and its lifetime (4, s). One flat string per entry
 * and no other object: a Buffer per entry cost ~1.2 KB (object headers, arrays of offsets, and 8 KB
 * pool slabs kept alive by a few live slices among short-lived ones); this costs the reply's length
 * plus ~30 bytes.
 */
const TRAILER = 16;

export interface CacheLimits {
  maxEntries: number;
  maxTtl: number;
  maxNegativeTtl: number;
}

/** Milliseconds clock; injectable for tests. */
export type Clock = () => number;

/**
 * Answer cache holding upstream answers as wire bytes, keyed by (qname lower-cased, qtype, qclass,
 * DO bit, CD bit) — the only client choices that change what the upstream says. Nothing of one
 * client or one link is stored (see relay.ts): each hit is built for the client that asked, with
 * its ID, RD, AD rule, question bytes (0x20 case) and OPT, and every TTL counted down by the
 * seconds elapsed, rounded up so a TTL is never above what the upstream would say now; an entry
 * is gone before any TTL would reach 0. Bounded, least recently used out.
 */
export class AnswerCache {
  private readonly map = new Map<string, string>();
  hits = 0;
  misses = 0;
  /** The chain names (ReplyFacts.chain) of the entry the last successful get() returned. */
  hitChain = '';

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

  /** Cache key: DO and CD change the answer (signatures, unvalidated data); nothing else of the client does. */
  static key(q: ParsedQuery): string {
    const flags = (q.edns?.dnssecOk ? 2 : 0) | (q.flags & FLAG.CD ? 4 : 0);
    return `${q.qname}|${q.qtype}|${q.qclass}|${flags}`;
  }

  /**
   * A reply for this client, or null. `ttlCap` lowers every TTL to at most that many seconds (an
   * exception or timetable change ending sooner). Sets hitChain.
   */
  get(key: string, query: Buffer, q: ParsedQuery, ttlCap = 0x7fffffff): Buffer | null {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return null;
    }
    const end = e.length - TRAILER;
    const storedAt = byte(e, end + 6) * 2 ** 40 + byte(e, end + 7) * 2 ** 32 + uint32(e, end + 8);
    const lifetime = uint32(e, end + 12);
    // Rounded up: the upstream counts whole seconds too, and may be anywhere within its second.
    const elapsed = Math.ceil((this.now() - storedAt) / 1000);
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
    const edeLength = (byte(e, end + 2) << 8) | byte(e, end + 3);
    const chainLength = (byte(e, end + 4) << 8) | byte(e, end + 5);
    const offsetsAt = end - 2 * count;
    const bodyLength = offsetsAt - chainLength - edeLength;
    const withOpt = q.edns !== null;
    const out = Buffer.allocUnsafe(bodyLength + (withOpt ? OPT_FIXED_SIZE + edeLength : 0));
    out.write(e, 0, bodyLength, 'latin1');
    if (withOpt && edeLength > 0)
      out.write(e.substring(bodyLength, bodyLength + edeLength), bodyLength + OPT_FIXED_SIZE, 'latin1');
    this.hitChain = chainLength === 0 ? '' : e.substring(bodyLength + edeLength, offsetsAt);
    for (let i = offsetsAt; i < end; i += 2) {
      const off = (byte(e, i) << 8) | byte(e, i + 1);
      const t = out.readUInt32BE(off) - elapsed;
      out.writeUInt32BE(t < ttlCap ? t : ttlCap, off);
    }
    return forClient(out, bodyLength, query, q, 0);
  }

  /**
   * Stores an upstream answer if it is cacheable: NOERROR with answers (lifetime = smallest TTL), or
   * NXDOMAIN/NODATA with an SOA (RFC 2308 §5: lifetime = min(SOA TTL, MINIMUM)). Never truncated
   * replies, other rcodes, or zero lifetimes.
   */
  set(key: string, stored: StoredAnswer): void {
    const { body, facts } = stored;
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
    const ede = facts.ede;
    const edeLength = ede?.length ?? 0;
    const chainLength = facts.chain.length;
    if (chainLength > 0xffff) return; // an absurd chain is inspected on every query, never stored
    const offsets = facts.ttlOffsets;
    const offsetsAt = body.length + edeLength + chainLength;
    const end = offsetsAt + 2 * offsets.length;
    const packed = Buffer.allocUnsafe(end + TRAILER);
    body.copy(packed, 0);
    ede?.copy(packed, body.length);
    packed.write(facts.chain, body.length + edeLength, 'latin1');
    for (let i = 0; i < offsets.length; i++) {
      const off = offsets[i];
      packed.writeUInt32BE(Math.min(packed.readUInt32BE(off), lifetime), off);
      packed.writeUInt16BE(off, offsetsAt + 2 * i);
    }
    packed.writeUInt16BE(offsets.length, end);
    packed.writeUInt16BE(edeLength, end + 2);
    packed.writeUInt16BE(chainLength, end + 4);
    packed.writeUIntBE(stored.askedAt ?? this.now(), end + 6, 6);
    packed.writeUInt32BE(lifetime, end + 12);
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
