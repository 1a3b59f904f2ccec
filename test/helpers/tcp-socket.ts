/** Raw TCP connections for tests of the server's connection limits and timeouts. */
import net from 'node:net';

/** Connects to the daemon on loopback from `localAddress` (a 127.0.0.x client of the test config). */
export function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
      s.off('error', reject);
      s.on('error', () => {}); // a reset by the server is what some tests expect
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves true when the server closes `s` within `ms`, false otherwise. */
export function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (s.destroyed || s.readableEnded) return resolve(true);
    s.on('error', () => {});
    const t = setTimeout(() => resolve(false), ms);
    s.on('close', () => (clearTimeout(t), resolve(true)));
    s.resume();
  });
}
