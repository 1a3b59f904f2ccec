import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { HostPort } from '../config/host-port.js';
import { answersQuestion } from '../dns/reply.js';
import { UpstreamError } from './errors.js';

/**
 * One query over a fresh TCP connection (RFC 7766), used when a UDP reply came back truncated.
 * Resolves with the reply if its ID and question match the query.
 */
export function tcpExchange(query: Buffer, questionEnd: number, target: HostPort, timeoutMs: number): Promise<Buffer> {
  const id = randomInt(0, 0x10000);
  const frame = Buffer.allocUnsafe(query.length + 2);
  frame.writeUInt16BE(query.length, 0);
  query.copy(frame, 2);
  frame.writeUInt16BE(id, 2);
  const sent = frame.subarray(2);
  return new Promise<Buffer>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: target.host, port: target.port });
    const finish = (err: Error | null, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(
      () => finish(new UpstreamError(`no TCP answer from ${target.host} within ${timeoutMs} ms`, 'timeout')),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(frame));
    socket.on('error', (e) => finish(new UpstreamError(`TCP to ${target.host}: ${e.message}`, 'network')));
    socket.on('close', () => finish(new UpstreamError(`TCP to ${target.host} closed before an answer`, 'network')));
    socket.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) return;
        const msg = buffered.subarray(2, 2 + len);
        buffered = buffered.subarray(2 + len);
        if (msg.length >= 12 && msg.readUInt16BE(0) === id && answersQuestion(msg, sent, questionEnd)) {
          finish(null, Buffer.from(msg));
          return;
        }
      }
    });
  });
}
