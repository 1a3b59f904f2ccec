import dgram from 'node:dgram';
import type { HostPort } from '../config/host-port.js';
import { canonicalAddress } from '../net/ip.js';

/**
 * Called for each message with a function to call exactly once: with the reply, or with null when
 * the message gets no answer.
 */
export type DatagramHandler = (msg: Buffer, address: string, reply: (wire: Buffer | null) => void) => void;

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
  const socket = dgram.createSocket({ type: addr.family === 4 ? 'udp4' : 'udp6', ipv6Only, recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', (msg, rinfo) => {
    const address = rinfo.address.startsWith('::ffff:') ? canonicalAddress(rinfo.address) : rinfo.address;
    handler(msg, address, (wire) => {
      if (wire !== null) socket.send(wire, rinfo.port, rinfo.address);
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: addr.host, port: addr.port, exclusive: true }, () => {
      socket.off('error', reject);
      socket.on('error', onError);
      resolve(socket);
    });
  });
}
