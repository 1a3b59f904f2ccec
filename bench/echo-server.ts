/**
 * The ceiling: a bare Node dgram server that copies each query, sets QR and sends it back. Its
 * sends skip the next-tick name lookup of an IP literal, as webfilter's do (src/server/udp-server.ts),
 * so it stays the fastest a Node UDP server can be. With ECHO_WORKERS=N (N > 1) it runs as N
 * node:cluster workers sharing the one socket, as `server.workers` would: the bound on what more
 * processes can gain on this machine.
 */
import cluster from 'node:cluster';
import dgram from 'node:dgram';

const workers = Number(process.env.ECHO_WORKERS ?? 1);

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const socket = dgram.createSocket({
    type: 'udp4',
    lookup: ((address: string, family: number, callback: (e: Error | null, a: string, f: number) => void) =>
      callback(null, address, family)) as never,
  });
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const r = Buffer.from(msg);
    r[2] |= 0x80;
    socket.send(r, rinfo.port, rinfo.address);
  });
  socket.bind({ address: '127.0.0.1', port: Number(process.argv[2]) });
  process.on('SIGTERM', () => process.exit(0));
}
