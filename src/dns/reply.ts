import { FLAG, HEADER_SIZE, RCODE, TYPE } from './constants.js';
import { WireError } from './errors.js';
import { skipName } from './name.js';

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
 */
export function inspectReply(reply: Buffer, questionEnd: number): ReplyFacts {
  const flags = reply.readUInt16BE(2);
  const counts = [reply.readUInt16BE(6), reply.readUInt16BE(8), reply.readUInt16BE(10)];
  let rcode = flags & 0xf;
  const ttlOffsets: number[] = [];
  let minTtl = Infinity;
  let negativeTtl: number | null = null;
  let pos = questionEnd;
  for (let section = 0; section < 3; section++) {
    for (let i = 0; i < counts[section]; i++) {
      pos = skipName(reply, pos);
      if (pos + 10 > reply.length) throw new WireError('record header truncated', RCODE.FORMERR);
      const type = reply.readUInt16BE(pos);
      const ttl = reply.readUInt32BE(pos + 4);
      const rdlen = reply.readUInt16BE(pos + 8);
      const rdEnd = pos + 10 + rdlen;
      if (rdEnd > reply.length) throw new WireError('record data truncated', RCODE.FORMERR);
      if (type === TYPE.OPT) {
        rcode |= reply[pos + 4] << 4;
      } else {
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
  };
}
