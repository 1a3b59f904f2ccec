/** DNS numeric constants used on the wire (RFC 1035, RFC 6891, RFC 3596). */

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended rcode 16 (RFC 6891 §6.1.3): header bits 0, OPT extended bits 1. */
  BADVERS: 16,
} as const;

/** EDNS option codes (IANA "DNS EDNS0 Option Codes"). */
export const EDNS_OPTION = {
  NSID: 3,
  CLIENT_SUBNET: 8,
  COOKIE: 10,
  TCP_KEEPALIVE: 11,
  PADDING: 12,
  /** Extended DNS Error (RFC 8914): the only option relayed from an upstream to clients. */
  EDE: 15,
} as const;

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  DNSKEY: 48,
  SVCB: 64,
  HTTPS: 65,
  ANY: 255,
} as const;

export const CLASS_IN = 1;

/** Header flag bits (second 16-bit word of the header). */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

export const HEADER_SIZE = 12;
/** Largest UDP reply sent to a client without EDNS (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_SIZE = 512;
/**
 * UDP payload size this server advertises in its own OPT records, asks its upstreams for, and never
 * exceeds in a UDP reply whatever a client advertises (DNS Flag Day 2020: no IP fragmentation).
 */
export const ADVERTISED_UDP_SIZE = 1232;
/** Size of an OPT record without options: root owner (1), type, class, TTL, RDLENGTH (10). */
export const OPT_FIXED_SIZE = 11;

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));

/** Presentation name of a query type: "A", "HTTPS", or "TYPE65280" for unknown ones (RFC 3597). */
export function typeName(qtype: number): string {
  return TYPE_NAMES.get(qtype) ?? `TYPE${qtype}`;
}
