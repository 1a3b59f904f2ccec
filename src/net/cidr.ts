import { parseIp } from './ip.js';

/** A parsed network: family, masked network bytes and prefix length. */
export interface Cidr {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
  /** The text it was written as. */
  text: string;
}

/**
 * Parses "10.20.0.0/16", "fd00::/8", or a bare address (a single host: /32 or /128).
 * Throws an Error whose message says what is wrong, e.g. `"10.0.0.0/33" is not a CIDR`.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const ip = parseIp(addrText);
  if (!ip || (ip.family === 4 && addrText.includes(':'))) {
    throw new Error(`"${text}" is not a CIDR (expected e.g. 10.20.0.0/16 or fd00::/8)`);
  }
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      throw new Error(`"${text}" is not a CIDR (prefix length must be 0-${max})`);
    }
    prefix = Number(p);
  }
  const masked = maskBytes(ip.bytes, prefix);
  if (!masked.every((b, i) => b === ip.bytes[i])) {
    throw new Error(`"${text}" has host bits set after /${prefix} (did you mean ${formatBytes(masked, ip.family)}/${prefix}?)`);
  }
  return { family: ip.family, bytes: masked, prefix, text };
}

/** Zeroes every bit after the first `prefix` bits. */
export function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i] & ((0xff00 >> bits) & 0xff);
  }
  return out;
}

function formatBytes(b: Uint8Array, family: 4 | 6): string {
  if (family === 4) return Array.from(b).join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i] << 8) | b[i + 1]).toString(16));
  return words.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
