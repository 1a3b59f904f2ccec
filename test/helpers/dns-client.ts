/** A minimal real DNS client over UDP and TCP sockets, bindable to a chosen 127.0.0.x source address. */
import dgram from 'node:dgram';
import net from 'node:net';

export interface ClientOpts {
  localAddress?: string;
  timeoutMs?: number;
  host?: string;
}

/** Sends one datagram and resolves with the first reply, or null on timeout. */
export function udpQuery(port: number, msg: Buffer, opts: ClientOpts = {}): Promise<Buffer | null> {
  const v6 = opts.host?.includes(':') ?? false;
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(v6 ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(null);
    }, opts.timeoutMs ?? 3000);
    s.on('error', (e) => {
      clearTimeout(timer);
      s.close();
      reject(e);
    });
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.bind({ address: opts.localAddress ?? (v6 ? '::1' : '127.0.0.1'), port: 0 }, () =>
      s.send(msg, port, opts.host ?? '127.0.0.1'),
    );
  });
}

/** Sends raw datagrams without waiting for answers (for garbage floods). */
export async function udpBlast(port: number, msgs: Buffer[], opts: ClientOpts = {}): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address: opts.localAddress ?? '127.0.0.1', port: 0 }, r));
  s.on('message', () => {});
  for (let i = 0; i < msgs.length; i++) {
    await new Promise<void>((r) => s.send(msgs[i], port, opts.host ?? '127.0.0.1', () => r()));
    // Let the daemon keep up rather than overflowing the kernel's receive buffer.
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 2));
  }
  s.close();
}

/**
 * Sends several framed queries on one TCP connection and resolves with the replies in arrival order
 * (they may come out of order, RFC 7766 §6.2.1.1).
 */
export function tcpQuery(port: number, msgs: Buffer[], opts: ClientOpts = {}): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const replies: Buffer[] = [];
    let buf: Buffer = Buffer.alloc(0);
    const s = net.connect({ port, host: opts.host ?? '127.0.0.1', localAddress: opts.localAddress ?? '127.0.0.1' });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(replies);
    }, opts.timeoutMs ?? 3000);
    s.on('connect', () => {
      s.write(Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]))));
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length === msgs.length) {
        clearTimeout(timer);
        s.end();
        resolve(replies);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
