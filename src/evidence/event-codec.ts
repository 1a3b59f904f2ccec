import { ANSWER_KINDS, type Answer, type QueryContext } from '../pipeline/types.js';
import type { QueryEvent } from '../observe/query-event.js';

/**
 * Query events as bytes, for the hand-over from the DNS thread to the evidence writer.
 *
 * The server edge encodes each answered query straight from its context and answer into a batch
 * buffer (no event object is made on the DNS path), and the buffer is transferred to the writer
 * thread (one copy of the bytes, no structured clone) — or, with `server.workers`, sent to the
 * primary process first. Queues then hold bytes (about 100 for a typical event) rather than objects,
 * which lived long enough in the queue to be promoted to the old generation and so grew the DNS
 * thread's heap under load.
 *
 * One event: at (f64), duration (f64), qtype (u16), rcode + 1 (u16), flags (u8: transport,
 * recordBlocked, kind), then the strings client, group, qname, reason, entry, upstream, response,
 * signal, via, user, each a u16 length and Latin-1 bytes, or (high bit of the length set) UTF-8 bytes when a
 * string holds a character above U+00FF (a config name or a user name can).
 */

const KIND_CODE = new Map(ANSWER_KINDS.map((k, i) => [k, i]));
const FIXED = 8 + 8 + 2 + 2 + 1;
const UTF8 = 0x8000;

/** Appends events to a growing buffer; `take` hands the bytes over and starts afresh. */
export class EventEncoder {
  private bytes: Buffer;
  private view: DataView;
  private used = 0;
  /** Events in the current buffer. */
  count = 0;

  constructor(private readonly initialBytes = 64 * 1024) {
    this.bytes = Buffer.allocUnsafeSlow(initialBytes);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.used;
  }

  add(e: QueryEvent): void {
    this.write(
      e.at,
      e.duration,
      e.qtype,
      e.rcode,
      (e.transport === 'tcp' ? 1 : 0) | (e.recordBlocked ? 2 : 0) | ((KIND_CODE.get(e.kind) ?? 5) << 2),
      e.client,
      e.group,
      e.qname,
      e.reason,
      e.entry,
      e.upstream,
      e.response,
      e.signal,
      e.via,
      e.user,
    );
  }

  /** Encodes an answered query as the edge has it: the same bytes `add` writes for its QueryEvent. */
  addAnswer(at: number, duration: number, ctx: QueryContext, a: Answer, rcode: number): void {
    const client = ctx.client;
    const category = a.category;
    this.write(
      at,
      duration,
      ctx.q.qtype,
      rcode,
      (ctx.transport === 'tcp' ? 1 : 0) | (category?.recordBlocked ? 2 : 0) | ((KIND_CODE.get(a.kind) ?? 5) << 2),
      ctx.address,
      client?.group.name ?? '',
      ctx.q.qname,
      a.reason,
      a.entry ?? '',
      a.upstream ?? '',
      a.response ?? '',
      a.signal ?? category?.signal ?? '',
      a.via ?? '',
      client?.user ?? '',
    );
  }

  private write(
    at: number,
    duration: number,
    qtype: number,
    rcode: number,
    flags: number,
    client: string,
    group: string,
    qname: string,
    reason: string,
    entry: string,
    upstream: string,
    response: string,
    signal: string,
    via: string,
    user: string,
  ): void {
    // Room for the fixed part and every string even as UTF-8 (≤ 3 bytes per UTF-16 unit).
    const chars =
      client.length +
      group.length +
      qname.length +
      reason.length +
      entry.length +
      upstream.length +
      response.length +
      signal.length +
      via.length +
      user.length;
    this.reserve(FIXED + 20 + 3 * chars);
    const v = this.view;
    let p = this.used;
    v.setFloat64(p, at);
    v.setFloat64(p + 8, duration);
    v.setUint16(p + 16, qtype);
    v.setUint16(p + 18, rcode + 1);
    v.setUint8(p + 20, flags);
    p += FIXED;
    p = this.string(p, client);
    p = this.string(p, group);
    p = this.string(p, qname);
    p = this.string(p, reason);
    p = this.string(p, entry);
    p = this.string(p, upstream);
    p = this.string(p, response);
    p = this.string(p, signal);
    p = this.string(p, via);
    p = this.string(p, user);
    this.used = p;
    this.count++;
  }

  /** The encoded batch (its own ArrayBuffer, safe to transfer) and how many events it holds. */
  take(): { buffer: ArrayBuffer; count: number } {
    const buffer = this.bytes.buffer.slice(0, this.used) as ArrayBuffer;
    const count = this.count;
    this.used = 0;
    this.count = 0;
    return { buffer, count };
  }

  private string(p: number, s: string): number {
    const n = s.length;
    const b = this.bytes;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) return this.utf8(p, s);
      b[p + 2 + i] = c;
    }
    b[p] = n >>> 8;
    b[p + 1] = n & 0xff;
    return p + 2 + n;
  }

  private utf8(p: number, s: string): number {
    const written = this.bytes.write(s, p + 2, 'utf8');
    this.view.setUint16(p, written | UTF8);
    return p + 2 + written;
  }

  /** Makes room for `n` more bytes after `used`. */
  private reserve(n: number): void {
    if (this.used + n <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.used + n));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength);
  }
}

/** The events of a batch made by EventEncoder. */
export function decodeEvents(buffer: ArrayBuffer, count: number): QueryEvent[] {
  const b = Buffer.from(buffer);
  const v = new DataView(buffer);
  const out: QueryEvent[] = new Array(count);
  let p = 0;
  const str = (): string => {
    const n = v.getUint16(p);
    const len = n & ~UTF8;
    const s = b.toString(n & UTF8 ? 'utf8' : 'latin1', p + 2, p + 2 + len);
    p += 2 + len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const flags = v.getUint8(p + 20);
    const at = v.getFloat64(p);
    const duration = v.getFloat64(p + 8);
    const qtype = v.getUint16(p + 16);
    const rcode = v.getUint16(p + 18) - 1;
    p += FIXED;
    out[i] = {
      at,
      transport: flags & 1 ? 'tcp' : 'udp',
      client: str(),
      group: str(),
      qname: str(),
      qtype,
      kind: ANSWER_KINDS[flags >>> 2] ?? 'error',
      reason: str(),
      entry: str(),
      rcode,
      duration,
      upstream: str(),
      response: str(),
      signal: str(),
      via: str(),
      user: str(),
      recordBlocked: (flags & 2) !== 0,
    };
  }
  if (p !== buffer.byteLength) throw new Error(`event batch: ${buffer.byteLength - p} bytes left after ${count} events`);
  return out;
}
