/** Seeded packet mutators for the network fuzz harness (the in-process property tests use fast-check). */
import { query, reply, rr } from '../helpers/wire-builder.js';

/** mulberry32: a small seeded PRNG, so a fuzz run can be repeated exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Mutator {
  constructor(readonly rand: () => number) {}

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** A plausible query: names allowed, blocked (deep subdomains), circumvention and tunnel-like; many types; EDNS or not. */
  validQuery(): Buffer {
    const label = () =>
      this.int(2 ** 31)
        .toString(36)
        .slice(0, 1 + this.int(8));
    const name = this.pick([
      () => `${label()}.example.org`,
      () => `${label()}.${label()}.facebook.com`,
      () => `www.instagram.com`,
      () => `${label()}${label()}${label()}${label()}.t.example.net`,
      () => this.pick(['dns.google', 'mask.icloud.com', 'use-application-dns.net', 'www.google.co.uk']),
      () => Array.from({ length: 1 + this.int(8) }, label).join('.'),
    ])();
    const type = this.pick([1, 1, 1, 28, 28, 65, 16, 255, 5, 12, 33, 0, 65535]);
    const edns = this.rand() < 0.5 ? { udpSize: this.pick([0, 512, 1232, 4096, 65535]), do: this.rand() < 0.3 } : undefined;
    return query(name, type, { edns });
  }

  /** One of the ways a packet gets broken; applied 1-3 times. */
  mutate(b: Buffer): Buffer {
    let c: Buffer = Buffer.from(b);
    for (let n = 1 + this.int(3); n > 0; n--) c = this.once(c);
    return c;
  }

  private once(b: Buffer): Buffer {
    const c = Buffer.from(b);
    switch (this.int(10)) {
      case 0: // bit flips
      case 1:
        for (let i = 1 + this.int(8); i > 0 && c.length > 0; i--) c[this.int(c.length)] ^= 1 << this.int(8);
        return c;
      case 2: // truncation
        return c.subarray(0, this.int(c.length + 1));
      case 3: // huge or zero counts
        if (c.length >= 12) c.writeUInt16BE(this.pick([0, 2, 0x7fff, 0xffff]), this.pick([4, 6, 8, 10]));
        return c;
      case 4: // compression pointer loop / forward pointer / pointer into the header
        if (c.length >= 14) c.writeUInt16BE(this.pick([0xc00c, 0xc000, 0xc000 | (c.length + 5), 0xffff]), 12);
        return c;
      case 5: // oversized or reserved-bit label length
        if (c.length > 12) c[12 + this.int(Math.min(20, c.length - 12))] = 64 + this.int(192);
        return c;
      case 6: // bad EDNS: OPT with lying length, a second OPT, OPT with a name
        return this.badOpt(c);
      case 7: // a name longer than 255 bytes
        return Buffer.concat([c.subarray(0, 12), Buffer.alloc(300, 63), c.subarray(Math.min(c.length, 12))]);
      case 8: // random junk appended or replacing
        return this.rand() < 0.5 ? Buffer.concat([c, this.junk(64)]) : this.junk(600);
      default: // flags: QR, opcodes, TC, Z bits
        if (c.length >= 4) c.writeUInt16BE(this.int(0x10000), 2);
        return c;
    }
  }

  private badOpt(c: Buffer): Buffer {
    const opt = Buffer.from(
      this.pick(['0000290200000000000005', '00002904d000000000000000', '01610000290200000000000000']),
      'hex',
    );
    const out = Buffer.concat([c, opt, this.rand() < 0.3 ? opt : Buffer.alloc(0)]);
    if (out.length >= 12) out.writeUInt16BE((out.readUInt16BE(10) + 1 + this.int(2)) & 0xffff, 10);
    return out;
  }

  junk(max: number): Buffer {
    const n = this.int(max + 1);
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /**
   * What a hostile upstream sends back for `q`: a good answer, a mutated one that keeps the ID and
   * question (so it passes the anti-spoofing check and reaches the reply walker and the cache),
   * junk, a wrong ID, a flood, nothing, or TC=1.
   */
  hostileReply(q: Buffer): Buffer[] | null {
    let good: Buffer;
    try {
      good = reply(q, { answers: [rr.a('x', `192.0.2.${this.int(255)}`, this.int(100_000))] });
    } catch {
      return null;
    }
    switch (this.int(10)) {
      case 0:
      case 1:
      case 2:
        return [good];
      case 3:
      case 4:
      case 5: {
        const m = Buffer.from(good);
        // Mutate only after the question, so the reply is still "for" this query.
        const at = Math.min(m.length, q.length);
        for (let i = 1 + this.int(6); i > 0 && m.length > at; i--) m[at + this.int(m.length - at)] ^= 1 << this.int(8);
        return [this.rand() < 0.3 ? m.subarray(0, at + this.int(m.length - at + 1)) : m];
      }
      case 6: {
        const j = this.junk(512);
        if (j.length >= 2) good.copy(j, 0, 0, 2); // right ID, junk after
        return [j];
      }
      case 7: {
        const flood = Array.from({ length: 5 + this.int(20) }, () => {
          const f = Buffer.from(good);
          f.writeUInt16BE(this.int(0x10000), 0);
          return f;
        });
        return [...flood, good];
      }
      case 8: {
        const tc = Buffer.from(good.subarray(0, q.length));
        tc.writeUInt16BE(tc.readUInt16BE(2) | 0x0200, 2);
        tc.writeUInt16BE(0, 6);
        return [tc];
      }
      default:
        return null;
    }
  }
}
