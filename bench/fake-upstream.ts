/**
 * A fast upstream for benchmarks: answers every query with one A record (192.0.2.1, TTL 3600)
 * by copying the question; NXDOMAIN for names under "nx.". Prints its port on stdout.
 */
import dgram from 'node:dgram';

const socket = dgram.createSocket('udp4');
socket.on('message', (q, rinfo) => {
  if (q.length < 12) return;
  let p = 12;
  while (p < q.length && q[p] !== 0) p += q[p] + 1;
  const qEnd = p + 5;
  if (qEnd > q.length) return;
  const r = Buffer.allocUnsafe(qEnd + 16);
  q.copy(r, 0, 0, qEnd);
  r.writeUInt16BE(0x8180, 2);
  r.writeUInt16BE(1, 4);
  r.writeUInt16BE(1, 6);
  r.writeUInt32BE(0, 8);
  r.writeUInt16BE(0xc00c, qEnd);
  r.writeUInt16BE(1, qEnd + 2);
  r.writeUInt16BE(1, qEnd + 4);
  r.writeUInt32BE(3600, qEnd + 6);
  r.writeUInt16BE(4, qEnd + 10);
  r.writeUInt32BE(0xc0000201, qEnd + 12);
  socket.send(r, rinfo.port, rinfo.address);
});
socket.bind({ address: '127.0.0.1', port: Number(process.argv[2] ?? 0) }, () => {
  process.stdout.write(`${socket.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
