import { ADVERTISED_UDP_SIZE, FLAG, HEADER_SIZE, OPT_FIXED_SIZE, TYPE } from './constants.js';
import type { ParsedQuery } from './query.js';
import type { ReplyFacts } from './reply.js';

/**
 * How an upstream answer is relayed: what the upstream said about the name is kept (and cached);
 * everything that belongs to one link or one client is rebuilt for each client.
 *
 * - The upstream is asked with webfilter's own OPT: the client's DO and CD, a 1232-byte buffer, AD=1
 *   (RFC 6840 §5.7: tell us the AD bit), and no client options — its Client Subnet (RFC 7871 leaks
 *   the student's network and makes the answer one subnet's), cookie, NSID or padding never leave.
 * - The upstream's OPT is dropped from the answer (RFC 6891 §6.1.1: OPT records are never cached or
 *   forwarded): its cookie (RFC 7873), NSID (RFC 5001), padding and keepalive describe the link
 *   between webfilter and its upstream. Only Extended DNS Errors (RFC 8914) are kept, to relay.
 * - Each client gets an OPT of our own (if it sent one): our buffer size, its DO bit, the EDE. The
 *   upstream's AD bit is kept, and cleared for a client that set neither AD nor DO (RFC 6840 §5.8).
 */

/** An upstream answer as stored: the reply without its OPT, and what was read from it. */
export interface StoredAnswer {
  /** The reply minus its OPT record (ARCOUNT adjusted); the upstream's flags, AD included. */
  body: Buffer;
  /** Facts of `body`: TTL offsets point into it; `optStart` is -1; `ede` and `chain` are kept. */
  facts: ReplyFacts;
  /**
   * When the question was sent upstream (epoch ms). Its TTLs count down from then: the upstream
   * worked them out after that, so an answer is never kept longer than the upstream meant.
   */
  askedAt?: number;
}

/** The query webfilter sends upstream for a client's query (the exchange sets a random ID). */
export function upstreamQuery(query: Buffer, q: ParsedQuery): Buffer {
  const end = q.questionEnd;
  const out = Buffer.allocUnsafe(end + OPT_FIXED_SIZE);
  out.writeUInt16BE(0, 0);
  out.writeUInt16BE(FLAG.RD | FLAG.AD | (q.flags & FLAG.CD), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(1, 10);
  query.copy(out, HEADER_SIZE, HEADER_SIZE, end);
  out[end] = 0;
  out.writeUInt16BE(TYPE.OPT, end + 1);
  out.writeUInt16BE(ADVERTISED_UDP_SIZE, end + 3);
  out.writeUInt32BE(q.edns?.dnssecOk ? 0x8000 : 0, end + 5);
  out.writeUInt16BE(0, end + 9);
  return out;
}

/** Removes the OPT record from an upstream reply (checked by inspectReply) to make its stored form. */
export function storedAnswer(reply: Buffer, facts: ReplyFacts): StoredAnswer {
  const { optStart, optEnd } = facts;
  if (optStart < 0) return { body: reply, facts };
  const cut = optEnd - optStart;
  const body = Buffer.allocUnsafe(reply.length - cut);
  reply.copy(body, 0, 0, optStart);
  reply.copy(body, optStart, optEnd);
  body.writeUInt16BE(body.readUInt16BE(10) - 1, 10);
  const ttlOffsets = facts.ttlOffsets.map((o) => (o > optStart ? o - cut : o));
  return { body, facts: { ...facts, ttlOffsets, optStart: -1, optEnd: -1 } };
}

/** Bytes the client's reply adds to a stored body: its OPT and the relayed EDE options. */
export function optBytesFor(q: ParsedQuery, ede: Buffer | null): number {
  return q.edns ? OPT_FIXED_SIZE + (ede?.length ?? 0) : 0;
}

/**
 * A fresh upstream answer for one client: the stored body with TTLs capped at `ttlCap` seconds (an
 * exception or timetable change ending sooner), then header, question and OPT as forClient makes them.
 */
export function renderAnswer(stored: StoredAnswer, query: Buffer, q: ParsedQuery, ttlCap: number): Buffer {
  const { body, facts } = stored;
  const out = Buffer.allocUnsafe(body.length + optBytesFor(q, facts.ede));
  body.copy(out, 0);
  if (q.edns && facts.ede) facts.ede.copy(out, body.length + OPT_FIXED_SIZE);
  if (ttlCap < 0x7fffffff) {
    for (const off of facts.ttlOffsets) if (out.readUInt32BE(off) > ttlCap) out.writeUInt32BE(ttlCap, off);
  }
  return forClient(out, body.length, query, q, facts.rcode);
}

/**
 * Makes `out` the reply for this client. `out` holds a stored body in [0, bodyLength) followed by
 * room for the OPT (if the client sent one) whose options (the EDE) are already in place after
 * the OPT's fixed part. Sets the client's ID, its RD and CD, RA, no AA (we are not the authority),
 * AD only as RFC 6840 §5.8 allows, its question bytes (0x20 case), and our OPT with its DO bit.
 */
export function forClient(out: Buffer, bodyLength: number, query: Buffer, q: ParsedQuery, rcode: number): Buffer {
  const stored = out.readUInt16BE(2);
  let flags = FLAG.QR | FLAG.RA | (q.flags & (FLAG.RD | FLAG.CD)) | (stored & 0xf);
  if (stored & FLAG.AD && (q.flags & FLAG.AD || q.edns?.dnssecOk)) flags |= FLAG.AD;
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE(flags, 2);
  query.copy(out, HEADER_SIZE, HEADER_SIZE, q.questionEnd);
  if (!q.edns) return out;
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  const p = bodyLength;
  out[p] = 0;
  out.writeUInt16BE(TYPE.OPT, p + 1);
  out.writeUInt16BE(ADVERTISED_UDP_SIZE, p + 3);
  out.writeUInt32BE(((rcode >>> 4) << 24) | (q.edns.dnssecOk ? 0x8000 : 0), p + 5);
  out.writeUInt16BE(out.length - p - OPT_FIXED_SIZE, p + 9);
  return out;
}
