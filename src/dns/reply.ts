import { EDNS_OPTION, FLAG, HEADER_SIZE, RCODE, TYPE } from './constants.js';
import { WireError } from './errors.js';
import { copyWireName, readWireName, skipName } from './name.js';

/** What the cache and forwarder need to know about an upstream reply, read without decoding it. */
export interface ReplyFacts {
  /** Full rcode: header bits plus the OPT extended bits (RFC 6891 §6.1.3). */
  rcode: number;
  truncated: boolean;
  answerCount: number;
  /** Offsets of the TTL field of every record except OPT, whose "TTL" holds flags. */
  ttlOffsets: number[];
  /** Smallest TTL among those records; Infinity when there are none. */
  minTtl: number;
  /** min(SOA TTL, SOA MINIMUM) of an SOA in the authority section (RFC 2308 §5), or null. */
  negativeTtl: number | null;
  /** Byte range of the OPT record, [optStart, optEnd); -1 when there is none. */
  optStart: number;
  optEnd: number;
  /** The OPT's Extended DNS Error options (RFC 8914), as option bytes ready to relay; null when none. */
  ede: Buffer | null;
  /**
   * With `chain` asked for: the names the answer leads through besides the question's — owners and
   * targets of its CNAME and DNAME records, TargetNames of its HTTPS/SVCB records — space-separated
   * in the order they appear, each once; "" when there are none.
   */
  chain: string;
}

/**
 * True when `reply` is a response to exactly the question in `query` bytes [12, questionEnd):
 * QR set, one question, same name (case-insensitive), type and class. Part of the anti-spoofing check.
 */
export function answersQuestion(reply: Buffer, query: Buffer, questionEnd: number): boolean {
  if (reply.length < questionEnd) return false;
  if ((reply.readUInt16BE(2) & FLAG.QR) === 0 || reply.readUInt16BE(4) !== 1) return false;
  for (let i = HEADER_SIZE; i < questionEnd; i++) {
    let a = reply[i];
    let b = query[i];
    if (a === b) continue;
    if (a >= 0x41 && a <= 0x5a) a |= 0x20;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (a !== b) return false;
  }
  return true;
}

/**
 * Walks every record of a reply whose question ends at `questionEnd`, checking that each fits the
 * packet. Throws WireError when the reply is malformed (such a reply is never relayed or cached).
 * `chain` also reads the names of CNAME, DNAME and HTTPS/SVCB records in the answer section.
 */
export function inspectReply(reply: Buffer, questionEnd: number, chain = false): ReplyFacts {
  const flags = reply.readUInt16BE(2);
  const counts = [reply.readUInt16BE(6), reply.readUInt16BE(8), reply.readUInt16BE(10)];
  let rcode = flags & 0xf;
  const ttlOffsets: number[] = [];
  let minTtl = Infinity;
  let negativeTtl: number | null = null;
  let optStart = -1;
  let optEnd = -1;
  let ede: Buffer | null = null;
  let names: string[] | null = null;
  let pos = questionEnd;
  for (let section = 0; section < 3; section++) {
    for (let i = 0; i < counts[section]; i++) {
      const owner = pos;
      pos = skipName(reply, pos);
      if (pos + 10 > reply.length) throw new WireError('record header truncated', RCODE.FORMERR);
      const type = reply.readUInt16BE(pos);
      const ttl = reply.readUInt32BE(pos + 4);
      const rdlen = reply.readUInt16BE(pos + 8);
      const rdEnd = pos + 10 + rdlen;
      if (rdEnd > reply.length) throw new WireError('record data truncated', RCODE.FORMERR);
      if (type === TYPE.OPT) {
        if (optStart >= 0) throw new WireError('more than one OPT record', RCODE.FORMERR);
        rcode |= reply[pos + 4] << 4;
        optStart = owner;
        optEnd = rdEnd;
        ede = edeOptions(reply, pos + 10, rdEnd);
      } else {
        if (chain && section === 0) names = chainNames(reply, type, owner, pos + 10, rdEnd, names);
        // RFC 2181 §8: a TTL with the top bit set is treated as zero.
        const t = ttl > 0x7fffffff ? 0 : ttl;
        ttlOffsets.push(pos + 4);
        if (t < minTtl) minTtl = t;
        if (section === 1 && type === TYPE.SOA && rdlen >= 22) {
          const minimum = reply.readUInt32BE(rdEnd - 4);
          const neg = Math.min(t, minimum > 0x7fffffff ? 0 : minimum);
          negativeTtl = negativeTtl === null ? neg : Math.min(negativeTtl, neg);
        }
      }
      pos = rdEnd;
    }
  }
  return {
    rcode,
    truncated: (flags & FLAG.TC) !== 0,
    answerCount: counts[0],
    ttlOffsets,
    minTtl,
    negativeTtl,
    optStart,
    optEnd,
    ede,
    chain: names === null ? '' : withoutQuestion(names, reply),
  };
}

/** The EDE options (code 15) among the OPT's options in [start, end), copied; null when none. */
function edeOptions(reply: Buffer, start: number, end: number): Buffer | null {
  let out: Buffer | null = null;
  for (let p = start; p + 4 <= end;) {
    const code = reply.readUInt16BE(p);
    const len = reply.readUInt16BE(p + 2);
    if (p + 4 + len > end) break; // a malformed option list: relay nothing more from it
    if (code === EDNS_OPTION.EDE) {
      const opt = reply.subarray(p, p + 4 + len);
      out = out === null ? Buffer.from(opt) : Buffer.concat([out, opt]);
    }
    p += 4 + len;
  }
  return out;
}

/** Adds the names a CNAME, DNAME or HTTPS/SVCB record leads through to `names`. */
function chainNames(
  reply: Buffer,
  type: number,
  owner: number,
  rdStart: number,
  rdEnd: number,
  names: string[] | null,
): string[] | null {
  if (type === TYPE.CNAME || type === TYPE.DNAME) {
    names ??= [];
    names.push(readWireName(reply, owner), readWireName(reply, rdStart));
  } else if (type === TYPE.HTTPS || type === TYPE.SVCB) {
    // SvcPriority (2) then TargetName (RFC 9460 §2.2); "." means the owner itself or no service.
    if (rdStart + 3 > rdEnd) throw new WireError('SVCB record too short', RCODE.FORMERR);
    const target = readWireName(reply, rdStart + 2);
    if (target !== '') (names ??= []).push(target);
  }
  return names;
}

/** The chain names without the question's own name and without repeats, space-separated. */
function withoutQuestion(names: string[], reply: Buffer): string {
  const qname = readWireName(reply, HEADER_SIZE);
  const seen = new Set<string>([qname]);
  const out: string[] = [];
  for (const n of names) {
    if (seen.has(n)) continue;
    seen.add(n);
    out.push(n);
  }
  return out.join(' ');
}

/** Lowers every TTL in `wire` (in place) to at most `max` seconds. */
export function capTtls(wire: Buffer, questionEnd: number, max: number): void {
  for (const off of inspectReply(wire, questionEnd).ttlOffsets) {
    if (wire.readUInt32BE(off) > max) wire.writeUInt32BE(max, off);
  }
}

/** A record taken out of a message: names uncompressed, so it can be placed in another one. */
export interface LooseRecord {
  /** The owner name, uncompressed wire bytes. */
  owner: Buffer;
  type: number;
  /** As sent (unsigned). */
  ttl: number;
  /** RDATA; a CNAME's target uncompressed. */
  rdata: Buffer;
}

/**
 * The answer-section records of `types` in a reply whose question ends at `questionEnd`, ready to
 * put in another message (the safe-search answer carries the endpoint's addresses and CNAMEs). Only
 * A, AAAA and CNAME carry no name or carry one that is uncompressed here. Throws WireError when malformed.
 */
export function answerRecords(reply: Buffer, questionEnd: number, types: readonly number[]): LooseRecord[] {
  const out: LooseRecord[] = [];
  let pos = questionEnd;
  for (let i = 0; i < reply.readUInt16BE(6); i++) {
    const owner = pos;
    pos = skipName(reply, pos);
    if (pos + 10 > reply.length) throw new WireError('record header truncated', RCODE.FORMERR);
    const type = reply.readUInt16BE(pos);
    const rdEnd = pos + 10 + reply.readUInt16BE(pos + 8);
    if (rdEnd > reply.length) throw new WireError('record data truncated', RCODE.FORMERR);
    if (types.includes(type)) {
      out.push({
        owner: copyWireName(reply, owner),
        type,
        ttl: reply.readUInt32BE(pos + 4),
        rdata: type === TYPE.CNAME ? copyWireName(reply, pos + 10) : Buffer.from(reply.subarray(pos + 10, rdEnd)),
      });
    }
    pos = rdEnd;
  }
  return out;
}
