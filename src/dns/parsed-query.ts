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
  /**
   * Offset just after the question section: bytes [12, questionEnd) are the question. 12 (no
   * question) only in the partial query a WireError carries for a packet without a readable question.
   */
  questionEnd: number;
  edns: Edns | null;
}
