/** A programmable upstream DNS server on 127.0.0.1 (UDP and TCP on one port) for end-to-end tests. */
import dgram from 'node:dgram';
import net from 'node:net';

/** What to do with a query: a reply, null to stay silent, a reply after a delay or once `after` settles. */
export type UpstreamAction =
  | Buffer
  | null
  | { delayMs: number; reply: Buffer | null }
  | { after: Promise<unknown>; reply: Buffer | null }
  | { raw: Buffer[] };
export type UpstreamHandler = (query: Buffer, transport: 'udp' | 'tcp') => UpstreamAction;

/** The daemon's readiness probe (`. IN NS`): answered, but not recorded in `received`. */
function isProbe(q: Buffer): boolean {
  return q.length >= 17 && q[12] === 0 && q.readUInt16BE(13) === 2;
}

export interface FakeUpstream {
  port: number;
  /** Every query received, in order (except readiness probes). */
  received: { query: Buffer; transport: 'udp' | 'tcp'; fromPort: number }[];
  handler: UpstreamHandler;
  close(): Promise<void>;
}

/**
 * `answerProbes: false` makes it ignore the daemon's readiness probes too (a dead upstream).
 */
export async function startFakeUpstream(
  handler: UpstreamHandler,
  opts: { host?: string; answerProbes?: boolean } = {},
): Promise<FakeUpstream> {
  const host = opts.host ?? '127.0.0.1';
  const answerProbes = opts.answerProbes ?? true;
  let udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind({ address: host, port: 0 }, r));
  let port = udp.address().port;
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
        if (isProbe(q)) {
          if (!answerProbes) continue;
          const r = probeReply(q);
          s.write(Buffer.concat([Buffer.from([0, r.length]), r]));
          continue;
        }
        fake.received.push({ query: Buffer.from(q), transport: 'tcp', fromPort: s.remotePort ?? 0 });
        act(fake.handler(q, 'tcp'), timers, (r) => s.write(Buffer.concat([Buffer.from([r.length >> 8, r.length & 0xff]), r])));
      }
    });
  });
  // TCP takes the port UDP was given; if a TCP socket already has it (e.g. a client's ephemeral
  // port), start over on another.
  for (let attempt = 0; ; attempt++) {
    const err = await new Promise<NodeJS.ErrnoException | null>((r) => {
      tcp.once('error', r);
      tcp.listen({ host, port }, () => (tcp.off('error', r), r(null)));
    });
    if (err === null) break;
    if (err.code !== 'EADDRINUSE' || attempt >= 20) throw err;
    await new Promise<void>((r) => udp.close(() => r()));
    udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind({ address: host, port: 0 }, r));
    port = udp.address().port;
  }
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
    if (isProbe(q)) {
      if (answerProbes) udp.send(probeReply(q), rinfo.port, rinfo.address);
      return;
    }
    fake.received.push({ query: q, transport: 'udp', fromPort: rinfo.port });
    act(fake.handler(q, 'udp'), timers, (r) => udp.send(r, rinfo.port, rinfo.address));
  });
  return fake;
}

/** NOERROR, no records: enough for the probe to count as an answer. */
function probeReply(q: Buffer): Buffer {
  const r = Buffer.from(q.subarray(0, 17));
  r.writeUInt16BE(0x8180, 2);
  r.writeUInt16BE(0, 10);
  return r;
}

function act(a: UpstreamAction, timers: Set<NodeJS.Timeout>, send: (r: Buffer) => void): void {
  if (a === null) return;
  if (Buffer.isBuffer(a)) return send(a);
  if ('raw' in a) return a.raw.forEach(send);
  if ('after' in a) {
    void a.after.then(() => {
      try {
        if (a.reply) send(a.reply);
      } catch {
        // closed meanwhile: the reply is simply never sent
      }
    });
    return;
  }
  const t = setTimeout(() => {
    timers.delete(t);
    if (a.reply) send(a.reply);
  }, a.delayMs);
  timers.add(t);
}
