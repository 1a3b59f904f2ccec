import { deflateRaw, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';

const deflate = promisify(deflateRaw);

/** Lists shorter than this are kept as they are. */
const PACK_FROM = 64 * 1024;

/**
 * What one list file held at the last good load (its bytes), kept so a reload can fall back to it
 * if the file becomes unreadable. Held as read until the daemon is answering, then deflated on
 * libuv's thread pool (level 1) and the read bytes are let go at once: a 1M-domain list is ~15 MB
 * read and a few MB deflated, and the bytes would otherwise stay resident for the daemon's life
 * only for a rare fallback (bench/PROFILE.md, "Issue 21": peak RSS). A reload that needs it
 * inflates it (tens of milliseconds for such a list).
 */
export class ListSnapshot {
  private plain: Buffer | null;
  private packed: Buffer | null = null;
  private packing: Promise<void> | null = null;

  constructor(bytes: Buffer) {
    this.plain = bytes;
  }

  /** The file's bytes as they were loaded. */
  get bytes(): Buffer {
    return this.plain ?? inflateRawSync(this.packed!);
  }

  /** True once only the deflated copy is held. */
  get isPacked(): boolean {
    return this.plain === null;
  }

  /**
   * Deflates the bytes off the DNS thread and lets the read ones go; resolves when done. Small
   * lists are kept as they are. A failure keeps the bytes (only memory is at stake). The snapshot
   * must be the only holder of the bytes it was given.
   */
  pack(): Promise<void> {
    this.packing ??= this.deflate();
    return this.packing;
  }

  private async deflate(): Promise<void> {
    const plain = this.plain;
    if (plain === null || plain.length < PACK_FROM) return;
    try {
      this.packed = await deflate(plain, { level: 1 });
    } catch {
      return;
    }
    this.plain = null;
    release(plain);
  }
}

/**
 * Frees a large buffer's memory now rather than at the next full collection (which a quiet heap
 * may not have for hours: it is in the old generation by then): its ArrayBuffer is transferred to a
 * clone that is garbage at once, and young garbage is collected within milliseconds.
 */
function release(b: Buffer): void {
  const ab = b.buffer;
  if (!(ab instanceof ArrayBuffer) || b.byteOffset !== 0 || b.byteLength !== ab.byteLength) return; // shares a pool slab
  structuredClone(ab, { transfer: [ab] });
}
