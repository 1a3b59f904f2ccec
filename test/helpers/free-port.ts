/** A loopback port free for both UDP and TCP, for real servers that cannot be told to bind port 0. */
import dgram from 'node:dgram';
import net from 'node:net';

/**
 * Asks the kernel for a free TCP port on `host`, checks UDP can bind it too, and releases both.
 * Another process could take it before the server binds it: starters retry on a bind failure.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0 }, () => resolve((server.address() as net.AddressInfo).port));
    });
    const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const udpOk = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind({ address: host, port, exclusive: true }, () => resolve(true));
    });
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => {
      try {
        udp.close(() => r());
      } catch {
        r();
      }
    });
    if (udpOk) return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${host} after 20 tries`);
}
