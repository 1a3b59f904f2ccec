import { ADVERTISED_UDP_SIZE, CLASS_IN, FLAG, HEADER_SIZE, OPT_FIXED_SIZE, RCODE, TYPE } from './constants.js';
import { encodeName, skipName } from './name.js';
import type { ParsedQuery } from './query.js';
import type { LooseRecord } from './reply.js';

/**
 * Builders for answers the daemon synthesises itself (blocks and errors), and the cut-down forms of
 * any answer too big for a UDP client. Relayed upstream answers are built in relay.ts.
 */

const OPT_SIZE = OPT_FIXED_SIZE;
const SOA_MNAME = encodeName('webfilter.invalid');
const SOA_RNAME = encodeName('hostmaster.webfilter.invalid');

/**
 * Starts a response: header + the query's question copied byte for byte (keeps the client's 0x20
 * case); no question when the query's could not be read (questionEnd 12). `extra` is the room for
 * records and for the OPT's options.
 */
function start(query: Buffer, q: ParsedQuery, rcode: number, extra: number): { buf: Buffer; pos: number } {
  const qlen = q.questionEnd - HEADER_SIZE;
  const buf = Buffer.allocUnsafe(HEADER_SIZE + qlen + extra + (q.edns ? OPT_SIZE : 0));
  buf.writeUInt16BE(q.id, 0);
  // QR, copy opcode and RD and CD from the query, advertise recursion; the low 4 bits of the rcode.
  buf.writeUInt16BE(FLAG.QR | (q.flags & (0x7800 | FLAG.RD | FLAG.CD)) | FLAG.RA | (rcode & 0xf), 2);
  buf.writeUInt16BE(qlen > 0 ? 1 : 0, 4);
  buf.writeUInt32BE(0, 6);
  buf.writeUInt16BE(q.edns ? 1 : 0, 10);
  query.copy(buf, HEADER_SIZE, HEADER_SIZE, q.questionEnd);
  return { buf, pos: q.questionEnd };
}

/**
 * Appends our OPT record when the query had one (RFC 6891 §7: only then): our buffer size, the
 * client's DO bit, the upper bits of an extended rcode, and `options` (relayed EDE) if given.
 */
function finish(buf: Buffer, pos: number, q: ParsedQuery, rcode = 0, options: Buffer | null = null): Buffer {
  if (!q.edns) return buf.subarray(0, pos);
  const optLen = options?.length ?? 0;
  buf[pos] = 0;
  buf.writeUInt16BE(TYPE.OPT, pos + 1);
  buf.writeUInt16BE(ADVERTISED_UDP_SIZE, pos + 3);
  buf.writeUInt32BE(((rcode >>> 4) << 24) | (q.edns.dnssecOk ? 0x8000 : 0), pos + 5);
  buf.writeUInt16BE(optLen, pos + 9);
  options?.copy(buf, pos + OPT_SIZE);
  return buf.subarray(0, pos + OPT_SIZE + optLen);
}

/**
 * An answer with only a header, the question (when there was a readable one) and an OPT (when the
 * query had a valid one): REFUSED, SERVFAIL, NOTIMP, FORMERR, BADVERS (an extended rcode: its upper
 * bits go in the OPT). `ede` is Extended DNS Error options to relay (RFC 8914), sent only in the OPT.
 */
export function errorResponse(query: Buffer, q: ParsedQuery, rcode: number, ede: Buffer | null = null): Buffer {
  const { buf, pos } = start(query, q, rcode, q.edns && ede ? ede.length : 0);
  return finish(buf, pos, q, rcode, ede);
}

/**
 * A bare header echoing the query's ID, for packets whose question cannot be read.
 * Never longer than the query (12 bytes), so it cannot amplify.
 */
export function headerOnlyResponse(query: Buffer, rcode: number): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  query.copy(buf, 0, 0, 2);
  const flags = query.readUInt16BE(2);
  buf.writeUInt16BE(FLAG.QR | (flags & (0x7800 | FLAG.RD)) | FLAG.RA | rcode, 2);
  return buf;
}

/** A single A or AAAA record answering the question (owner compressed to the question name). */
export function addressResponse(query: Buffer, q: ParsedQuery, address: Buffer, ttl: number): Buffer {
  const rrLen = 2 + 10 + address.length;
  const { buf, pos } = start(query, q, RCODE.NOERROR, rrLen);
  buf.writeUInt16BE(1, 6);
  buf.writeUInt16BE(0xc00c, pos);
  buf.writeUInt16BE(address.length === 4 ? TYPE.A : TYPE.AAAA, pos + 2);
  buf.writeUInt16BE(CLASS_IN, pos + 4);
  buf.writeUInt32BE(ttl, pos + 6);
  buf.writeUInt16BE(address.length, pos + 10);
  address.copy(buf, pos + 12);
  return finish(buf, pos + rrLen, q);
}

/** HINFO RDATA of RFC 8482 §4.2: CPU "RFC8482", OS "". */
const RFC8482_HINFO = Buffer.from('\x07RFC8482\x00', 'latin1');

/**
 * The RFC 8482 answer to an ANY query: one synthetic HINFO record instead of every RRset of the
 * name, so ANY cannot be used to amplify. The TTL is long so resolvers downstream cache it.
 */
export function anyResponse(query: Buffer, q: ParsedQuery, ttl: number): Buffer {
  const rrLen = 2 + 10 + RFC8482_HINFO.length;
  const { buf, pos } = start(query, q, RCODE.NOERROR, rrLen);
  buf.writeUInt16BE(1, 6);
  buf.writeUInt16BE(0xc00c, pos);
  buf.writeUInt16BE(TYPE.HINFO, pos + 2);
  buf.writeUInt16BE(CLASS_IN, pos + 4);
  buf.writeUInt32BE(ttl, pos + 6);
  buf.writeUInt16BE(RFC8482_HINFO.length, pos + 10);
  RFC8482_HINFO.copy(buf, pos + 12);
  return finish(buf, pos + rrLen, q);
}

/**
 * NXDOMAIN or NODATA with a synthetic SOA in the authority section, so clients cache the negative
 * answer for `ttl` seconds (RFC 2308 §3: negative TTL = min(SOA TTL, SOA MINIMUM)).
 */
export function negativeResponse(query: Buffer, q: ParsedQuery, rcode: number, ttl: number): Buffer {
  const rdLen = SOA_MNAME.length + SOA_RNAME.length + 20;
  const rrLen = 2 + 10 + rdLen;
  const { buf, pos } = start(query, q, rcode, rrLen);
  buf.writeUInt16BE(1, 8);
  buf.writeUInt16BE(0xc00c, pos);
  buf.writeUInt16BE(TYPE.SOA, pos + 2);
  buf.writeUInt16BE(CLASS_IN, pos + 4);
  buf.writeUInt32BE(ttl, pos + 6);
  buf.writeUInt16BE(rdLen, pos + 10);
  let p = pos + 12;
  p += SOA_MNAME.copy(buf, p);
  p += SOA_RNAME.copy(buf, p);
  buf.writeUInt32BE(1, p); // serial
  buf.writeUInt32BE(3600, p + 4); // refresh
  buf.writeUInt32BE(600, p + 8); // retry
  buf.writeUInt32BE(86400, p + 12); // expire
  buf.writeUInt32BE(ttl, p + 16); // minimum = negative-caching TTL
  return finish(buf, p + 20, q);
}

/**
 * The reply cut down to header + question (+ OPT) with TC=1, for a UDP client whose payload limit
 * the full answer exceeds; the client then retries over TCP (RFC 7766 §5).
 */
export function truncatedResponse(query: Buffer, q: ParsedQuery, reply: Buffer): Buffer {
  const rcode = reply.readUInt16BE(2) & 0xf;
  const { buf, pos } = start(query, q, rcode, 0);
  buf.writeUInt16BE(buf.readUInt16BE(2) | FLAG.TC | (reply.readUInt16BE(2) & (FLAG.AA | FLAG.AD)), 2);
  return finish(buf, pos, q);
}

/**
 * Records of the question's own type for the question name (owner compressed to it), e.g. the A,
 * AAAA or PTR records of `local_records`. `rdatas` are the records' RDATA, one record each.
 */
export function recordsResponse(query: Buffer, q: ParsedQuery, rdatas: readonly Buffer[], ttl: number): Buffer {
  let size = 0;
  for (const r of rdatas) size += 12 + r.length;
  const { buf, pos } = start(query, q, RCODE.NOERROR, size);
  buf.writeUInt16BE(rdatas.length, 6);
  let p = pos;
  for (const r of rdatas) {
    buf.writeUInt16BE(0xc00c, p);
    buf.writeUInt16BE(q.qtype, p + 2);
    buf.writeUInt16BE(CLASS_IN, p + 4);
    buf.writeUInt32BE(ttl, p + 6);
    buf.writeUInt16BE(r.length, p + 10);
    p += 12 + r.copy(buf, p + 12);
  }
  return finish(buf, p, q);
}

/**
 * The question name as a CNAME to `target`, followed by `records` (another message's answer
 * records, names uncompressed: see answerRecords), each TTL at most `ttl`: the safe-search answer.
 * `rcode` is the rcode of the answer the records came from.
 */
export function cnameResponse(
  query: Buffer,
  q: ParsedQuery,
  target: string,
  records: readonly LooseRecord[],
  ttl: number,
  rcode: number,
): Buffer {
  const cname = encodeName(target);
  let size = 12 + cname.length;
  for (const r of records) size += r.owner.length + 10 + r.rdata.length;
  const { buf, pos } = start(query, q, rcode, size);
  buf.writeUInt16BE(1 + records.length, 6);
  let p = pos;
  buf.writeUInt16BE(0xc00c, p);
  p = writeRecord(buf, p + 2, TYPE.CNAME, ttl, cname);
  for (const r of records) {
    p += r.owner.copy(buf, p);
    p = writeRecord(buf, p, r.type, Math.min(r.ttl, ttl), r.rdata);
  }
  return finish(buf, p, q, rcode);
}

/** Type, class IN, TTL, RDLENGTH and RDATA at `p` (after the owner name); returns the offset after. */
function writeRecord(buf: Buffer, p: number, type: number, ttl: number, rdata: Buffer): number {
  buf.writeUInt16BE(type, p);
  buf.writeUInt16BE(CLASS_IN, p + 2);
  buf.writeUInt32BE(ttl, p + 4);
  buf.writeUInt16BE(rdata.length, p + 8);
  return p + 10 + rdata.copy(buf, p + 10);
}

/**
 * Sets AA on a synthesised answer (in place) for names this server answers as their owner: local
 * records and the special-use zones, as unbound does for its local zones.
 */
export function authoritative(wire: Buffer): Buffer {
  wire.writeUInt16BE(wire.readUInt16BE(2) | FLAG.AA, 2);
  return wire;
}

/**
 * A reply that fits `limit` bytes, for UDP: the reply itself when it fits; else the reply without
 * its additional records (only its OPT kept), when that fits — RFC 2181 §9: no TC when only
 * additional data is left out; else header + question + OPT with TC=1 (the client retries over TCP).
 * `reply` is a well-formed message to the question of `q` (as built by this daemon).
 */
export function fitUdp(query: Buffer, q: ParsedQuery, reply: Buffer, limit: number): Buffer {
  if (reply.length <= limit) return reply;
  const arcount = reply.readUInt16BE(10);
  if (arcount > 0) {
    let pos = q.questionEnd;
    const records = reply.readUInt16BE(6) + reply.readUInt16BE(8);
    for (let i = 0; i < records; i++) {
      const fixed = skipName(reply, pos);
      pos = fixed + 10 + reply.readUInt16BE(fixed + 8);
    }
    const additionalAt = pos;
    let opt: Buffer | null = null;
    for (let i = 0; i < arcount; i++) {
      const start = pos;
      const fixed = skipName(reply, pos);
      pos = fixed + 10 + reply.readUInt16BE(fixed + 8);
      if (reply.readUInt16BE(fixed) === TYPE.OPT) opt = reply.subarray(start, pos);
    }
    const size = additionalAt + (opt?.length ?? 0);
    if (size <= limit) {
      const out = Buffer.allocUnsafe(size);
      reply.copy(out, 0, 0, additionalAt);
      opt?.copy(out, additionalAt);
      out.writeUInt16BE(opt ? 1 : 0, 10);
      return out;
    }
  }
  return truncatedResponse(query, q, reply);
}
