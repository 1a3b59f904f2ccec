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
 * One cached answer. The variants of a name (type, class, DO/CD) are chained from the name's head
 * entry, which also carries the name's "used since the last eviction pass" mark.
 */
interface Entry {
  /** qtype + 65536 × (DO/CD bits + 4 × qclass): unique per variant, a small integer for class IN. */
  readonly code: number;
  /** The packed answer (see TRAILER). */
  value: string;
  next: Entry | null;
  used: boolean;
}

/** A query's variant: DO and CD change the answer (signatures, unvalidated data); nothing else of the client does. */
function variant(q: ParsedQuery): number {
  const flags = (q.edns?.dnssecOk ? 1 : 0) | (q.flags & FLAG.CD ? 2 : 0);
  return q.qtype + 65536 * (flags + 4 * q.qclass);
}

/**
 * Answer cache holding upstream answers as wire bytes, keyed by (qname lower-cased, qtype, qclass,
 * DO bit, CD bit) — the only client choices that change what the upstream says. Nothing of one
 * client or one link is stored (see relay.ts): each hit is built for the client that asked, with
 * its ID, RD, AD rule, question bytes (0x20 case) and OPT, and every TTL counted down by the
 * seconds elapsed, rounded up so a TTL is never above what the upstream would say now; an entry
 * is gone before any TTL would reach 0.
 *
 * Bounded, least recently used names out, approximated by the second-chance ("clock") rule: a hit
 * only marks its name used; when the cache is over its bound, the oldest names are looked at in
 * turn, a used one is unmarked and moved to the young end, an unused one is evicted with all its
 * variants. So a hit costs one Map probe by the query's own name string — no key string is built
 * and the Map is not reordered — and eviction work is paid for by earlier hits.
 */
export class AnswerCache {
  /** Name → its first variant; in insertion order, oldest first (where the clock's hand starts). */
  private readonly map = new Map<string, Entry>();
  private count = 0;
  hits = 0;
  misses = 0;
  /** The chain names (ReplyFacts.chain) of the entry the last successful get() returned. */
  hitChain = '';

  constructor(
    private limits: CacheLimits,
    private readonly now: Clock = Date.now,
  ) {}

  /** Answers held (every variant of every name). */
  get size(): number {
    return this.count;
  }

  /** Applies new limits (at reload), evicting the oldest entries if the cache is now too big. */
  setLimits(limits: CacheLimits): void {
    this.limits = limits;
    this.evict();
  }

  /**
   * A reply for this client's query `q` (read from `query`), or null. `ttlCap` lowers every TTL to
   * at most that many seconds (an exception or timetable change ending sooner). Sets hitChain.
   */
  get(q: ParsedQuery, query: Buffer, ttlCap = 0x7fffffff): Buffer | null {
    const head = this.map.get(q.qname);
    const code = variant(q);
    let entry: Entry | null = head ?? null;
    while (entry !== null && entry.code !== code) entry = entry.next;
    if (entry === null) {
      this.misses++;
      return null;
    }
    const e = entry.value;
    const end = e.length - TRAILER;
    const storedAt = byte(e, end + 6) * 2 ** 40 + byte(e, end + 7) * 2 ** 32 + uint32(e, end + 8);
    const lifetime = uint32(e, end + 12);
    // Rounded up: the upstream counts whole seconds too, and may be anywhere within its second.
    const elapsed = Math.ceil((this.now() - storedAt) / 1000);
    if (elapsed >= lifetime) {
      this.unlink(q.qname, head!, entry);
      this.misses++;
      return null;
    }
    head!.used = true;
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
      const t = ((out[off] << 24) | (out[off + 1] << 16) | (out[off + 2] << 8) | out[off + 3]) - elapsed;
      const ttl = t < ttlCap ? t : ttlCap;
      out[off] = ttl >>> 24;
      out[off + 1] = (ttl >>> 16) & 0xff;
      out[off + 2] = (ttl >>> 8) & 0xff;
      out[off + 3] = ttl & 0xff;
    }
    return forClient(out, bodyLength, query, q, 0);
  }

  /**
   * Stores an upstream answer if it is cacheable: NOERROR with answers (lifetime = smallest TTL), or
   * NXDOMAIN/NODATA with an SOA (RFC 2308 §5: lifetime = min(SOA TTL, MINIMUM)). Never truncated
   * replies, other rcodes, or zero lifetimes.
   */
  set(q: ParsedQuery, stored: StoredAnswer): void {
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
    const value = packed.toString('latin1');
    const code = variant(q);
    const head = this.map.get(q.qname);
    let e: Entry | null = head ?? null;
    while (e !== null && e.code !== code) e = e.next;
    if (e) e.value = value;
    else if (head) {
      head.next = { code, value, next: head.next, used: false };
      this.count++;
    } else {
      this.map.set(q.qname, { code, value, next: null, used: false });
      this.count++;
    }
    this.evict();
  }

  /** Drops everything (e.g. when the upstreams change). */
  clear(): void {
    this.map.clear();
    this.count = 0;
  }

  /** Removes one variant of `name`, whose first variant is `head`. */
  private unlink(name: string, head: Entry, e: Entry): void {
    this.count--;
    if (e === head) {
      if (head.next === null) this.map.delete(name);
      else {
        head.next.used = head.used;
        this.map.set(name, head.next); // same key: keeps its place
      }
      return;
    }
    let p = head;
    while (p.next !== e) p = p.next!;
    p.next = e.next;
  }

  /** The clock: from the oldest name, unmark and requeue used names, evict unused ones, until within bounds. */
  private evict(): void {
    if (this.count <= this.limits.maxEntries) return;
    for (const [name, head] of this.map) {
      if (this.count <= this.limits.maxEntries) return;
      this.map.delete(name);
      if (head.used) {
        head.used = false;
        this.map.set(name, head); // visited again later in this loop if still needed
        continue;
      }
      for (let e: Entry | null = head; e !== null; e = e.next) this.count--;
    }
  }
}

function byte(s: string, i: number): number {
  return s.charCodeAt(i);
}

function uint32(s: string, i: number): number {
  return ((s.charCodeAt(i) << 24) | (s.charCodeAt(i + 1) << 16) | (s.charCodeAt(i + 2) << 8) | s.charCodeAt(i + 3)) >>> 0;
}
