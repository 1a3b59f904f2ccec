import { ADVERTISED_UDP_SIZE, CLASSIC_UDP_SIZE, FLAG, HEADER_SIZE, RCODE, TYPE } from './constants.js';
import { WireError } from './errors.js';
import { readQuestionName, skipName } from './name.js';
import type { Edns, ParsedQuery } from './parsed-query.js';

export type { Edns, ParsedQuery } from './parsed-query.js';

/**
 * Reads a query's header and question and finds its OPT record. The client's EDNS options are
 * never used: they describe its link to us (cookies, padding, keepalive) or ask for things we do not
 * forward (Client Subnet, NSID); replies and upstream queries carry OPT records of our own.
 *
 * Throws WireError: rcode null (drop) when the header is unreadable or the packet is a response;
 * NOTIMP for opcodes other than QUERY; FORMERR for anything malformed; BADVERS for an EDNS version
 * other than 0 (RFC 6891 §6.1.3). The error carries the question when it was readable and the OPT
 * when it was valid, for the error reply to repeat.
 */
export function parseQuery(buf: Buffer): ParsedQuery {
  if (buf.length < HEADER_SIZE) throw new WireError('packet shorter than a DNS header', null);
  const flags = buf.readUInt16BE(2);
  // Never answer a response: answering would let two resolvers bounce packets between each other.
  if (flags & FLAG.QR) throw new WireError('packet is a response, not a query', null);
  const opcode = (flags >> 11) & 0xf;
  const qdcount = buf.readUInt16BE(4);
  const q: ParsedQuery = {
    id: buf.readUInt16BE(0),
    flags,
    opcode,
    qname: '',
    qtype: 0,
    qclass: 0,
    questionEnd: HEADER_SIZE,
    edns: null,
  };
  if (qdcount === 1) {
    try {
      const { name, end } = readQuestionName(buf, HEADER_SIZE);
      if (end + 4 > buf.length) throw new WireError('question truncated before type and class', RCODE.FORMERR);
      q.qname = name;
      q.qtype = buf.readUInt16BE(end);
      q.qclass = buf.readUInt16BE(end + 2);
      q.questionEnd = end + 4;
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      // Without a readable question the OPT cannot be found either: header-only answer.
      throw new WireError(e.message, opcode !== 0 ? RCODE.NOTIMP : RCODE.FORMERR);
    }
  }
  // The OPT, if it can be found and is valid; a broken one is remembered as the FORMERR to give.
  let optError: WireError | null = null;
  if (qdcount <= 1) {
    try {
      q.edns = readOpt(buf, q.questionEnd, buf.readUInt16BE(6) + buf.readUInt16BE(8), buf.readUInt16BE(10));
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      optError = e;
    }
  }
  // A reply carries the question only when there is exactly one (and we could read it).
  const partial = (): ParsedQuery => (qdcount === 1 ? q : { ...q, qname: '', qtype: 0, qclass: 0, questionEnd: HEADER_SIZE });
  if (opcode !== 0) throw new WireError(`opcode ${opcode} not implemented`, RCODE.NOTIMP, partial());
  if (qdcount !== 1) throw new WireError(`query has ${qdcount} questions, expected 1`, RCODE.FORMERR, partial());
  if (optError) throw new WireError(optError.message, RCODE.FORMERR, q);
  if (buf.readUInt16BE(6) !== 0 || buf.readUInt16BE(8) !== 0)
    throw new WireError('query carries answer or authority records', RCODE.FORMERR, q);
  if (q.edns && q.edns.version !== 0) throw new WireError(`EDNS version ${q.edns.version} not supported`, RCODE.BADVERS, q);
  return q;
}

/**
 * Walks the records after the question (answer and authority ones are only skipped) for the OPT
 * record; more than one OPT, or one not owned by the root, is FORMERR (RFC 6891 §6.1.1).
 */
function readOpt(buf: Buffer, offset: number, skip: number, arcount: number): Edns | null {
  let edns: Edns | null = null;
  let pos = offset;
  for (let i = 0; i < skip + arcount; i++) {
    const nameStart = pos;
    pos = skipName(buf, pos);
    if (pos + 10 > buf.length) throw new WireError('record truncated', RCODE.FORMERR);
    const type = buf.readUInt16BE(pos);
    const rdlen = buf.readUInt16BE(pos + 8);
    if (pos + 10 + rdlen > buf.length) throw new WireError('record data truncated', RCODE.FORMERR);
    if (type === TYPE.OPT && i >= skip) {
      if (edns) throw new WireError('more than one OPT record', RCODE.FORMERR);
      if (buf[nameStart] !== 0) throw new WireError('OPT record owner is not the root', RCODE.FORMERR);
      edns = {
        udpSize: Math.max(CLASSIC_UDP_SIZE, buf.readUInt16BE(pos + 2)),
        version: buf[pos + 5],
        dnssecOk: (buf[pos + 6] & 0x80) !== 0,
      };
    }
    pos += 10 + rdlen;
  }
  return edns;
}

/**
 * Largest UDP reply this client gets: what it advertises (RFC 6891 §6.2.3), but never more than
 * 1232 bytes (DNS Flag Day 2020: no fragments, and no amplification beyond that); 512 without EDNS.
 */
export function clientUdpLimit(q: ParsedQuery): number {
  return q.edns ? Math.min(q.edns.udpSize, ADVERTISED_UDP_SIZE) : CLASSIC_UDP_SIZE;
}
