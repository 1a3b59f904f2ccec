import { CLASS_IN, FLAG, HEADER_SIZE } from './constants.js';
import { encodeName } from './name.js';

/**
 * A recursive query (RD set, no EDNS) for one name and type, for questions the daemon asks on its
 * own behalf (e.g. a client's PTR for its device name). The ID is 0: the exchange sets a random one.
 */
export function buildQuery(name: string, qtype: number): { wire: Buffer; questionEnd: number } {
  const qname = encodeName(name);
  const wire = Buffer.alloc(HEADER_SIZE + qname.length + 4);
  wire.writeUInt16BE(FLAG.RD, 2);
  wire.writeUInt16BE(1, 4);
  qname.copy(wire, HEADER_SIZE);
  wire.writeUInt16BE(qtype, HEADER_SIZE + qname.length);
  wire.writeUInt16BE(CLASS_IN, HEADER_SIZE + qname.length + 2);
  return { wire, questionEnd: wire.length };
}
