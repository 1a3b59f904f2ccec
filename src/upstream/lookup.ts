import { FLAG, HEADER_SIZE } from '../dns/constants.js';
import { encodeName } from '../dns/name.js';
import { parseQuery } from '../dns/query.js';
import { upstreamQuery } from '../dns/relay.js';
import type { UpstreamSpec } from '../config/upstream-spec.js';
import { Forwarder } from './forwarder.js';
import { UpstreamTransports } from './transports.js';
import { UdpExchange } from './udp-exchange.js';

/** What the upstreams answer for a name now: the chain names of the answer (see ReplyFacts.chain). */
export interface LiveAnswer {
  /** Names the answer leads through besides the name asked, in order. */
  chain: string[];
  /** The upstream that answered ("127.0.0.1:53"). */
  upstream: string;
  rcode: number;
}

/**
 * Asks the configured upstreams once, exactly as the daemon would (same query, same forwarder), so
 * `webfilter check` can say what a live answer's CNAME chain is. Throws UpstreamError when none answers.
 */
export async function lookupLive(
  servers: UpstreamSpec[],
  name: string,
  qtype: number,
  timeoutMs: number,
  ca: string | null = null,
): Promise<LiveAnswer> {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16BE(FLAG.RD, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.from([qtype >> 8, qtype & 0xff, 0, 1]);
  const raw = Buffer.concat([header, encodeName(name), tail]);
  const q = parseQuery(raw);
  const transports = new UpstreamTransports(new UdpExchange());
  try {
    const forwarder = new Forwarder({
      servers: servers.map((s) => transports.use(s, ca)),
      strategy: 'failover',
      timeoutMs,
      maxInFlight: 1,
    });
    const { facts, upstream } = await forwarder.forward(upstreamQuery(raw, q), q.questionEnd);
    return { chain: facts.chain === '' ? [] : facts.chain.split(' '), upstream, rcode: facts.rcode };
  } finally {
    transports.close();
  }
}
