/** The ceiling: a bare Node dgram server that copies each query, sets QR and sends it back. */
import dgram from 'node:dgram';

const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  const r = Buffer.from(msg);
  r[2] |= 0x80;
  socket.send(r, rinfo.port, rinfo.address);
});
socket.bind({ address: '127.0.0.1', port: Number(process.argv[2]) });
process.on('SIGTERM', () => process.exit(0));
