import { CLASSIC_UDP_SIZE, FLAG, HEADER_SIZE, RCODE, TYPE } from './constants.js';
import { WireError } from './errors.js';
import { readQuestionName, skipName } from './name.js';

/** EDNS(0) facts read from a query's OPT record (RFC 6891 §6.1). */
export interface Edns {
  /** Requestor's UDP payload size, never below 512. */
  udpSize: number;
  /** DNSSEC OK bit (RFC 3225). */
  dnssecOk: boolean;
  version: number;
}

/** The header and question of a query, read from the raw bytes without decoding anything else. */
export interface ParsedQuery {
  id: number;
  flags: number;
  opcode: number;
  /** Lower-cased qname without trailing dot; "" is the root. */
  qname: string;
  qtype: number;
  qclass: number;
  /** Offset just after the question section: bytes [12, questionEnd) are the question. */
  questionEnd: number;
  edns: Edns | null;
}

/**
 * Reads a query's header and question and finds its OPT record.
 * Throws WireError: rcode null (drop) when the header is unreadable or the packet is a response;
 * NOTIMP for opcodes other than QUERY; FORMERR for anything malformed.
 */
export function parseQuery(buf: Buffer): ParsedQuery {
  if (buf.length < HEADER_SIZE) throw new WireError('packet shorter than a DNS header', null);
  const flags = buf.readUInt16BE(2);
  // Never answer a response: answering would let two resolvers bounce packets between each other.
  if (flags & FLAG.QR) throw new WireError('packet is a response, not a query', null);
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) throw new WireError(`opcode ${opcode} not implemented`, RCODE.NOTIMP);
  const qdcount = buf.readUInt16BE(4);
  if (qdcount !== 1) throw new WireError(`query has ${qdcount} questions, expected 1`, RCODE.FORMERR);
  const ancount = buf.readUInt16BE(6);
  const nscount = buf.readUInt16BE(8);
  if (ancount !== 0 || nscount !== 0) throw new WireError('query carries answer or authority records', RCODE.FORMERR);

  const { name, end } = readQuestionName(buf, HEADER_SIZE);
  if (end + 4 > buf.length) throw new WireError('question truncated before type and class', RCODE.FORMERR);
  const qtype = buf.readUInt16BE(end);
  const qclass = buf.readUInt16BE(end + 2);
  const questionEnd = end + 4;

  const edns = readOpt(buf, questionEnd, buf.readUInt16BE(10));
  return { id: buf.readUInt16BE(0), flags, opcode, qname: name, qtype, qclass, questionEnd, edns };
}

/** Walks the additional section for the OPT record; more than one OPT is FORMERR (RFC 6891 §6.1.1). */
function readOpt(buf: Buffer, offset: number, arcount: number): Edns | null {
  let edns: Edns | null = null;
  let pos = offset;
  for (let i = 0; i < arcount; i++) {
    const nameStart = pos;
    pos = skipName(buf, pos);
    if (pos + 10 > buf.length) throw new WireError('additional record truncated', RCODE.FORMERR);
    const type = buf.readUInt16BE(pos);
    const rdlen = buf.readUInt16BE(pos + 8);
    if (pos + 10 + rdlen > buf.length) throw new WireError('additional record data truncated', RCODE.FORMERR);
    if (type === TYPE.OPT) {
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

/** Largest UDP reply the client can take (RFC 6891 §6.2.3; 512 without EDNS). */
export function clientUdpLimit(q: ParsedQuery): number {
  return q.edns ? q.edns.udpSize : CLASSIC_UDP_SIZE;
}
