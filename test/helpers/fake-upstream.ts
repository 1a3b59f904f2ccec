/** A programmable upstream DNS server on 127.0.0.1 (UDP and TCP on one port) for end-to-end tests. */
import dgram from 'node:dgram';
import net from 'node:net';

/** What to do with a query: a reply, null to stay silent, or a reply after a delay. */
export type UpstreamAction = Buffer | null | { delayMs: number; reply: Buffer | null } | { raw: Buffer[] };
export type UpstreamHandler = (query: Buffer, transport: 'udp' | 'tcp') => UpstreamAction;

export interface FakeUpstream {
  port: number;
  /** Every query received, in order. */
  received: { query: Buffer; transport: 'udp' | 'tcp'; fromPort: number }[];
  handler: UpstreamHandler;
  close(): Promise<void>;
}

export async function startFakeUpstream(handler: UpstreamHandler, host = '127.0.0.1'): Promise<FakeUpstream> {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind({ address: host, port: 0 }, r));
  const port = udp.address().port;
  const conns = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const tcp = net.createServer((s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + q.length);
        fake.received.push({ query: Buffer.from(q), transport: 'tcp', fromPort: s.remotePort ?? 0 });
        act(fake.handler(q, 'tcp'), timers, (r) => s.write(Buffer.concat([Buffer.from([r.length >> 8, r.length & 0xff]), r])));
      }
    });
  });
  await new Promise<void>((r) => tcp.listen({ host, port }, r));
  const fake: FakeUpstream = {
    port,
    received: [],
    handler,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const c of conns) c.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
  udp.on('message', (q, rinfo) => {
    fake.received.push({ query: q, transport: 'udp', fromPort: rinfo.port });
    act(fake.handler(q, 'udp'), timers, (r) => udp.send(r, rinfo.port, rinfo.address));
  });
  return fake;
}

function act(a: UpstreamAction, timers: Set<NodeJS.Timeout>, send: (r: Buffer) => void): void {
  if (a === null) return;
  if (Buffer.isBuffer(a)) return send(a);
  if ('raw' in a) return a.raw.forEach(send);
  const t = setTimeout(() => {
    timers.delete(t);
    if (a.reply) send(a.reply);
  }, a.delayMs);
  timers.add(t);
}
