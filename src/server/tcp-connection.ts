import type net from 'node:net';
import type { DatagramHandler } from './udp-server.js';

/** What one connection may hold and how long it may dawdle (from server.tcp). */
export interface ConnectionLimits {
  idleTimeoutMs: number;
  maxQueriesPerConnection: number;
  /** A message that has begun arriving must be complete within this. */
  readTimeoutMs: number;
  /** Reply bytes waiting to be sent before the connection stops reading queries. */
  maxUnsentBytes: number;
}

/** Largest number of queries one connection may have waiting for answers at once. */
const MAX_PIPELINED = 100;
/** Largest DNS message with its 2-byte length. */
const MAX_FRAME = 65537;

/**
 * One DNS-over-TCP connection (RFC 7766): 2-byte length framing, queries answered as they complete
 * (possibly out of order, §6.2.1.1), and a bound on what a client can make us hold:
 *
 * - at most 100 queries waiting for answers;
 * - at most `maxUnsentBytes` of replies the client has not read: beyond it no further query is
 *   read until the socket drains (socket.write's backpressure), so a client that pipelines queries
 *   for a large answer and never reads costs a bounded buffer, not one reply per query;
 * - answers still arriving for queries already taken can add at most two messages more: past that
 *   the client is not reading, and the connection is closed (`slowReader`);
 * - a connection that cannot send because the client does not read is closed after the idle timeout;
 * - the idle timeout, and a read timeout for a message that trickles in (slowloris).
 */
export function serveConnection(
  socket: net.Socket,
  address: string,
  limits: ConnectionLimits,
  handler: DatagramHandler,
  slowReader: () => void,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  let readTimer: NodeJS.Timeout | null = null;
  let stallTimer: NodeJS.Timeout | null = null;
  let waiting = 0;
  let served = 0;
  /** No more queries are taken (query limit reached); the connection ends when answers are sent. */
  let ending = false;
  /** The client sent FIN: answer what it sent, then end. */
  let peerEnded = false;
  let pumping = false;
  const hardLimit = limits.maxUnsentBytes + 2 * MAX_FRAME;

  const stop = (timer: NodeJS.Timeout | null) => {
    if (timer !== null) clearTimeout(timer);
    return null;
  };
  socket.on('close', () => {
    readTimer = stop(readTimer);
    stallTimer = stop(stallTimer);
  });
  socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
  socket.on('error', () => socket.destroy());

  const headComplete = () => buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0);

  /** Takes queries while the limits allow, then decides whether to read more from the socket. */
  const pump = () => {
    if (pumping || socket.destroyed) return;
    pumping = true;
    const before = served;
    try {
      while (!ending && waiting < MAX_PIPELINED && socket.writableLength < limits.maxUnsentBytes && headComplete()) {
        const len = buffered.readUInt16BE(0);
        if (len === 0) {
          socket.destroy(); // a zero-length message is not DNS
          return;
        }
        const msg = Buffer.from(buffered.subarray(2, 2 + len));
        buffered = buffered.subarray(2 + len);
        waiting++;
        served++;
        if (served >= limits.maxQueriesPerConnection) ending = true;
        handler(msg, address, reply);
        if (socket.destroyed) return;
      }
    } finally {
      pumping = false;
    }
    const backlogged = socket.writableLength >= limits.maxUnsentBytes;
    if (backlogged || waiting >= MAX_PIPELINED || headComplete()) {
      socket.pause();
      if (backlogged && stallTimer === null) {
        // The client is not reading what we send: it gets the idle timeout to start again.
        stallTimer = setTimeout(() => {
          slowReader();
          socket.destroy();
        }, limits.idleTimeoutMs);
        stallTimer.unref();
      }
    } else if (!ending && !peerEnded) {
      socket.resume();
    }
    // Read timeout: runs only while a message has begun arriving and is not complete; each message
    // taken starts the clock again for the next one.
    if (served > before) readTimer = stop(readTimer);
    const partial = buffered.length > 0 && !headComplete() && !ending;
    if (!partial) readTimer = stop(readTimer);
    else if (readTimer === null) {
      readTimer = setTimeout(() => socket.destroy(), limits.readTimeoutMs);
      readTimer.unref();
    }
    if (waiting === 0 && (ending || (peerEnded && !headComplete()))) socket.end();
  };

  function reply(wire: Buffer | null): void {
    waiting--;
    if (socket.destroyed) return;
    if (wire !== null) {
      if (socket.writableLength > hardLimit) {
        slowReader();
        socket.destroy();
        return;
      }
      // Length and message as one writev, without copying the message into a new frame.
      const length = Buffer.allocUnsafe(2);
      length.writeUInt16BE(wire.length, 0);
      socket.cork();
      socket.write(length);
      socket.write(wire);
      socket.uncork();
    }
    pump();
  }

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    pump();
  });
  socket.on('drain', () => {
    stallTimer = stop(stallTimer);
    pump();
  });
  socket.on('end', () => {
    peerEnded = true;
    pump();
  });
}
