/** IP address parsing into bytes, for CIDR matching. Accepts what sockets report (incl. IPv4-mapped IPv6). */

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

/** Parses dotted-quad IPv4 into an unsigned 32-bit number, or -1 when it is not one. */
export function parseIPv4(text: string): number {
  let value = 0;
  let part = -1;
  let parts = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (part < 0 || parts === 4) return -1;
      value = value * 256 + part;
      parts++;
      part = -1;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return -1; // no leading zeros: "010" is ambiguous (octal)
      part = (part < 0 ? 0 : part) * 10 + (c - 0x30);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

/** Parses an IPv6 address (with ::, embedded IPv4, optional %zone) into 16 bytes, or null. */
export function parseIPv6(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  const s = zone >= 0 ? text.slice(0, zone) : text;
  if (s.length < 2 || s.length > 45) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const words: number[] = [];
  const all = [...head, ...tail];
  const v4Words: number[] = [];
  // An embedded IPv4 address may only be the last group.
  const last = all.length > 0 ? all[all.length - 1] : '';
  if (last.includes('.')) {
    const v4 = parseIPv4(last);
    if (v4 < 0) return null;
    v4Words.push(v4 >>> 16, v4 & 0xffff);
    if (tail.length > 0) tail.pop();
    else head.pop();
  }
  const parseGroup = (g: string): number => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : -1);
  const headW = head.map(parseGroup);
  const tailW = [...tail.map(parseGroup), ...v4Words];
  if (headW.includes(-1) || tailW.includes(-1)) return null;
  const fill = 8 - headW.length - tailW.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  words.push(...headW, ...new Array<number>(fill).fill(0), ...tailW);
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = words[i] >> 8;
    bytes[2 * i + 1] = words[i] & 0xff;
  }
  return bytes;
}

/** Parses an IPv4 or IPv6 address. IPv4-mapped IPv6 (::ffff:a.b.c.d) comes back as IPv4. */
export function parseIp(text: string): IpAddress | null {
  const v4 = parseIPv4(text);
  if (v4 >= 0) return { family: 4, bytes: new Uint8Array([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]) };
  const v6 = parseIPv6(text);
  if (!v6) return null;
  if (isV4Mapped(v6)) return { family: 4, bytes: v6.slice(12) };
  return { family: 6, bytes: v6 };
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** An address as text without brackets, zone or IPv4-mapping: "10.0.0.1", "fd00::1". */
export function canonicalAddress(text: string): string {
  return text.startsWith('::ffff:') && parseIPv4(text.slice(7)) >= 0 ? text.slice(7) : text;
}
