import { ADVERTISED_UDP_SIZE, CLASS_IN, FLAG, HEADER_SIZE, OPT_FIXED_SIZE, TYPE } from './constants.js';
import { encodeName } from './name.js';

/**
 * A recursive query (RD set) for one name and type, for questions the daemon asks on its own behalf
 * (a client's PTR for its device name; a safe-search endpoint's addresses). No EDNS unless `edns`
 * is given: then an OPT with our buffer size and the DO bit as asked. The ID is 0: the exchange (or
 * the caller) sets one.
 */
export function buildQuery(
  name: string,
  qtype: number,
  opts: { qclass?: number; cd?: boolean; edns?: { dnssecOk: boolean } } = {},
): { wire: Buffer; questionEnd: number } {
  const qname = encodeName(name);
  const questionEnd = HEADER_SIZE + qname.length + 4;
  const wire = Buffer.alloc(questionEnd + (opts.edns ? OPT_FIXED_SIZE : 0));
  wire.writeUInt16BE(FLAG.RD | (opts.cd ? FLAG.CD : 0), 2);
  wire.writeUInt16BE(1, 4);
  qname.copy(wire, HEADER_SIZE);
  wire.writeUInt16BE(qtype, HEADER_SIZE + qname.length);
  wire.writeUInt16BE(opts.qclass ?? CLASS_IN, HEADER_SIZE + qname.length + 2);
  if (opts.edns) {
    wire.writeUInt16BE(1, 10);
    wire.writeUInt16BE(TYPE.OPT, questionEnd + 1);
    wire.writeUInt16BE(ADVERTISED_UDP_SIZE, questionEnd + 3);
    wire.writeUInt32BE(opts.edns.dnssecOk ? 0x8000 : 0, questionEnd + 5);
  }
  return { wire, questionEnd };
}
