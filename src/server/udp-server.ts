import dgram from 'node:dgram';
import type { HostPort } from '../config/host-port.js';
import { canonicalAddress } from '../net/ip.js';

/**
 * Called for each message with a function to call exactly once: with the reply, or with null when
 * the message gets no answer.
 */
export type DatagramHandler = (msg: Buffer, address: string, reply: (wire: Buffer | null) => void) => void;

/**
 * The socket's name lookup, given only IP literals (the listen address, checked by the config; each
 * reply's destination, the address the query came from): answers at once. Node's default
 * (dns.lookup) answers an IP literal too, but only on the next tick, so every reply went through a
 * closure, a regex and a run of the tick queue before its sendmsg (~8 % of an echo server's user-space
 * instructions per packet, measured with callgrind).
 */
function literalLookup(
  address: string,
  family: number,
  callback: (err: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, family);
}

/**
 * Binds a UDP socket and passes every datagram to `handler`. `ipv6Only` keeps an [::] socket from
 * also taking IPv4 when 0.0.0.0 is listened on separately.
 */
export function startUdpServer(
  addr: HostPort,
  ipv6Only: boolean,
  handler: DatagramHandler,
  onError: (e: Error) => void,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket({
    type: addr.family === 4 ? 'udp4' : 'udp6',
    ipv6Only,
    recvBufferSize: 4 * 1024 * 1024,
    lookup: literalLookup as never,
  });
  socket.on('message', (msg, rinfo) => {
    const address = rinfo.address.startsWith('::ffff:') ? canonicalAddress(rinfo.address) : rinfo.address;
    handler(msg, address, (wire) => {
      if (wire !== null) socket.send(wire, rinfo.port, rinfo.address);
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    // Not exclusive: DNS workers (server.workers > 1) share the one socket the cluster primary binds.
    socket.bind({ address: addr.host, port: addr.port, exclusive: false }, () => {
      socket.off('error', reject);
      socket.on('error', onError);
      resolve(socket);
    });
  });
}
