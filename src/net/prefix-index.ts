import type { Cidr } from './cidr.js';
import { parseIPv4, parseIp } from './ip.js';

interface TrieNode<T> {
  child: [TrieNode<T> | undefined, TrieNode<T> | undefined];
  value?: T;
  has: boolean;
}

/**
 * Longest-prefix match from IP address to value, compiled at load.
 * IPv4: one Map per prefix length in use, probed longest first (≤ 33 probes, usually 2-4).
 * IPv6: a binary trie walked bit by bit (≤ 128 steps).
 */
export class PrefixIndex<T> {
  private readonly v4 = new Map<number, Map<number, T>>();
  private v4Lengths: number[] = [];
  private readonly v6: TrieNode<T> = { child: [undefined, undefined], has: false };

  /** Adds a network. A network added twice keeps the first value. Returns false for a duplicate. */
  add(cidr: Cidr, value: T): boolean {
    if (cidr.family === 4) {
      const key = ((cidr.bytes[0] << 24) | (cidr.bytes[1] << 16) | (cidr.bytes[2] << 8) | cidr.bytes[3]) >>> 0;
      let m = this.v4.get(cidr.prefix);
      if (!m) {
        m = new Map();
        this.v4.set(cidr.prefix, m);
        this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
      }
      if (m.has(key)) return false;
      m.set(key, value);
      return true;
    }
    let node = this.v6;
    for (let i = 0; i < cidr.prefix; i++) {
      const bit = (cidr.bytes[i >> 3] >> (7 - (i & 7))) & 1;
      node = node.child[bit] ??= { child: [undefined, undefined], has: false };
    }
    if (node.has) return false;
    node.value = value;
    node.has = true;
    return true;
  }

  /** The value of the longest network containing `address`, or undefined. */
  lookup(address: string): T | undefined {
    let v4 = parseIPv4(address);
    if (v4 < 0) {
      const ip = parseIp(address);
      if (!ip) return undefined;
      if (ip.family === 6) return this.lookupV6(ip.bytes);
      v4 = ((ip.bytes[0] << 24) | (ip.bytes[1] << 16) | (ip.bytes[2] << 8) | ip.bytes[3]) >>> 0;
    }
    for (const len of this.v4Lengths) {
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      const hit = this.v4.get(len)!.get((v4 & mask) >>> 0);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  private lookupV6(bytes: Uint8Array): T | undefined {
    let node: TrieNode<T> | undefined = this.v6;
    let best: T | undefined;
    for (let i = 0; node; i++) {
      if (node.has) best = node.value;
      if (i === 128) break;
      node = node.child[(bytes[i >> 3] >> (7 - (i & 7))) & 1];
    }
    return best;
  }
}
