/** Builds DNS messages byte by byte for tests: queries from clients and replies from fake upstreams. */
import { encodeName } from '../../src/dns/name.js';

export interface Rr {
  name: string;
  type: number;
  ttl: number;
  data: Buffer;
  cls?: number;
}

export interface EdnsOpts {
  udpSize?: number;
  do?: boolean;
  options?: [number, Buffer][];
}

function rrBytes(rr: Rr): Buffer {
  const name = encodeName(rr.name);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(rr.type, 0);
  fixed.writeUInt16BE(rr.cls ?? 1, 2);
  fixed.writeUInt32BE(rr.ttl, 4);
  fixed.writeUInt16BE(rr.data.length, 8);
  return Buffer.concat([name, fixed, rr.data]);
}

function optBytes(e: EdnsOpts): Buffer {
  const opts = Buffer.concat(
    (e.options ?? []).map(([code, data]) => {
      const h = Buffer.alloc(4);
      h.writeUInt16BE(code, 0);
      h.writeUInt16BE(data.length, 2);
      return Buffer.concat([h, data]);
    }),
  );
  const fixed = Buffer.alloc(11);
  fixed[0] = 0;
  fixed.writeUInt16BE(41, 1);
  fixed.writeUInt16BE(e.udpSize ?? 1232, 3);
  fixed.writeUInt32BE(e.do ? 0x8000 : 0, 5);
  fixed.writeUInt16BE(opts.length, 9);
  return Buffer.concat([fixed, opts]);
}

/** A client query: one question, RD set, optional EDNS. */
export function query(
  name: string,
  type = 1,
  opts: { id?: number; rd?: boolean; edns?: EdnsOpts; cd?: boolean; ad?: boolean } = {},
): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(opts.id ?? Math.floor(Math.random() * 0x10000), 0);
  h.writeUInt16BE((opts.rd === false ? 0 : 0x0100) | (opts.cd ? 0x0010 : 0) | (opts.ad ? 0x0020 : 0), 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(opts.edns ? 1 : 0, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, encodeName(name), q, opts.edns ? optBytes(opts.edns) : Buffer.alloc(0)]);
}

/** Offset just after the (single, uncompressed) question of a message. */
export function questionEnd(msg: Buffer): number {
  let p = 12;
  while (msg[p] !== 0) p += msg[p] + 1;
  return p + 5;
}

/** A reply to `q`: same ID and question bytes, QR+RA, the given sections, and OPT if `edns` is set. */
export function reply(
  q: Buffer,
  opts: {
    rcode?: number;
    tc?: boolean;
    aa?: boolean;
    ad?: boolean;
    answers?: readonly Rr[];
    authority?: readonly Rr[];
    additional?: readonly Rr[];
    edns?: EdnsOpts;
  } = {},
): Buffer {
  const qEnd = questionEnd(q);
  const h = Buffer.alloc(12);
  q.copy(h, 0, 0, 2);
  h.writeUInt16BE(
    0x8000 |
      (q.readUInt16BE(2) & 0x0100) |
      0x0080 |
      (opts.tc ? 0x0200 : 0) |
      (opts.aa ? 0x0400 : 0) |
      (opts.ad ? 0x0020 : 0) |
      (opts.rcode ?? 0),
    2,
  );
  const an = opts.answers ?? [];
  const ns = opts.authority ?? [];
  const ar = opts.additional ?? [];
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(an.length, 6);
  h.writeUInt16BE(ns.length, 8);
  h.writeUInt16BE(ar.length + (opts.edns ? 1 : 0), 10);
  return Buffer.concat([
    h,
    q.subarray(12, qEnd),
    ...an.map(rrBytes),
    ...ns.map(rrBytes),
    ...ar.map(rrBytes),
    opts.edns ? optBytes(opts.edns) : Buffer.alloc(0),
  ]);
}

export const rr = {
  a: (name: string, ip: string, ttl = 300): Rr => ({ name, type: 1, ttl, data: Buffer.from(ip.split('.').map(Number)) }),
  aaaa: (name: string, ttl = 300): Rr => ({ name, type: 28, ttl, data: Buffer.from('20010db8000000000000000000000001', 'hex') }),
  soa: (name: string, ttl: number, minimum: number): Rr => {
    const tail = Buffer.alloc(20);
    tail.writeUInt32BE(2026112301, 0);
    tail.writeUInt32BE(minimum, 16);
    return { name, type: 6, ttl, data: Buffer.concat([encodeName(`ns.${name}`), encodeName(`hostmaster.${name}`), tail]) };
  },
  cname: (name: string, target: string, ttl = 300): Rr => ({ name, type: 5, ttl, data: encodeName(target) }),
  dname: (name: string, target: string, ttl = 300): Rr => ({ name, type: 39, ttl, data: encodeName(target) }),
  /** HTTPS (65) with SvcPriority and TargetName only ("." = the owner / no service). */
  https: (name: string, priority: number, target: string, ttl = 300): Rr => ({
    name,
    type: 65,
    ttl,
    data: Buffer.concat([Buffer.from([priority >> 8, priority & 0xff]), encodeName(target)]),
  }),
  txt: (name: string, text: string, ttl = 300): Rr => ({
    name,
    type: 16,
    ttl,
    data: Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]),
  }),
};

/** Reads header fields of a reply. */
export function header(msg: Buffer) {
  const flags = msg.readUInt16BE(2);
  return {
    id: msg.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    aa: (flags & 0x0400) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0xf,
    qdcount: msg.readUInt16BE(4),
    ancount: msg.readUInt16BE(6),
    nscount: msg.readUInt16BE(8),
    arcount: msg.readUInt16BE(10),
  };
}

/** What a message's OPT record says (see optOf). */
export interface OptFacts {
  /** Bytes of the whole OPT record. */
  length: number;
  udpSize: number;
  extRcode: number;
  version: number;
  do: boolean;
  /** Option code → the option bodies with that code. */
  options: Map<number, Buffer[]>;
}

/** The OPT record of a message, found by walking every record, or null. */
export function optOf(msg: Buffer): OptFacts | null {
  if (msg.readUInt16BE(10) === 0) return null;
  let p = msg.readUInt16BE(4) ? questionEnd(msg) : 12;
  const total = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  for (let i = 0; i < total; i++) {
    while (msg[p] !== 0 && (msg[p] & 0xc0) !== 0xc0) p += msg[p] + 1;
    p += msg[p] === 0 ? 1 : 2;
    const type = msg.readUInt16BE(p);
    const rdlen = msg.readUInt16BE(p + 8);
    if (type === 41) {
      const options = new Map<number, Buffer[]>();
      for (let o = p + 10; o < p + 10 + rdlen;) {
        const code = msg.readUInt16BE(o);
        const len = msg.readUInt16BE(o + 2);
        options.set(code, [...(options.get(code) ?? []), msg.subarray(o + 4, o + 4 + len)]);
        o += 4 + len;
      }
      return {
        length: 11 + rdlen,
        udpSize: msg.readUInt16BE(p + 2),
        extRcode: msg[p + 4],
        version: msg[p + 5],
        do: (msg[p + 6] & 0x80) !== 0,
        options,
      };
    }
    p += 10 + rdlen;
  }
  return null;
}
