import { domainToASCII } from 'node:url';
import { WireError } from './errors.js';
import { RCODE } from './constants.js';

/** Maximum wire length of a domain name, including the root label (RFC 1035 §2.3.4). */
export const MAX_NAME_WIRE = 255;

// Scratch space for building the lower-cased name; a name is at most 255 bytes on the wire.
const scratch = Buffer.allocUnsafe(MAX_NAME_WIRE + 1);

/** Bytes that may appear unescaped in a label of the fast path: a-z 0-9 - _ (after lower-casing). */
const PLAIN = new Uint8Array(256);
for (let c = 0x61; c <= 0x7a; c++) PLAIN[c] = 1;
for (let c = 0x30; c <= 0x39; c++) PLAIN[c] = 1;
PLAIN[0x2d] = 1;
PLAIN[0x5f] = 1;

export interface ReadName {
  /** Lower-cased presentation form without the trailing dot ("" for the root). */
  name: string;
  /** Offset just after the name. */
  end: number;
}

/**
 * Reads an uncompressed name (as in a query's question) starting at `offset`.
 * Bytes outside a-z0-9-_ are escaped as in RFC 1035 §5.1 presentation format, so an odd label can
 * never be mistaken for a list entry (a label "facebook.com" is written `facebook\.com`).
 * Throws WireError(FORMERR) on compression pointers, over-long labels or names, or truncation.
 */
export function readQuestionName(buf: Buffer, offset: number): ReadName {
  let pos = offset;
  let out = 0;
  let plain = true;
  for (;;) {
    if (pos >= buf.length) throw new WireError('name runs past the end of the packet', RCODE.FORMERR);
    const len = buf[pos];
    if (len === 0) {
      pos++;
      break;
    }
    if (len > 63) throw new WireError('compressed or over-long label in question', RCODE.FORMERR);
    if (pos + 1 + len > buf.length) throw new WireError('label runs past the end of the packet', RCODE.FORMERR);
    if (pos + 1 + len - offset >= MAX_NAME_WIRE) throw new WireError('name longer than 255 bytes', RCODE.FORMERR);
    if (out > 0) scratch[out++] = 0x2e;
    for (let i = pos + 1, end = pos + 1 + len; i < end; i++) {
      let c = buf[i];
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (PLAIN[c] === 0) plain = false;
      scratch[out++] = c;
    }
    pos += 1 + len;
  }
  const name = plain ? scratch.toString('latin1', 0, out) : escapedName(buf, offset);
  return { name, end: pos };
}

/** Slow path for names with unusual bytes: lower-cases A-Z and escapes like `dig` does. */
function escapedName(buf: Buffer, offset: number): string {
  const labels: string[] = [];
  let pos = offset;
  while (buf[pos] !== 0) {
    const len = buf[pos];
    labels.push(escapedLabel(buf, pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return labels.join('.');
}

function escapedLabel(buf: Buffer, start: number, end: number): string {
  let label = '';
  for (let i = start; i < end; i++) {
    let c = buf[i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c === 0x2e || c === 0x5c) label += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) label += String.fromCharCode(c);
    else label += '\\' + c.toString().padStart(3, '0');
  }
  return label;
}

/**
 * Reads a possibly compressed name anywhere in a message (a CNAME target, an SVCB TargetName) in
 * the same lower-cased, escaped presentation form as readQuestionName, so it can be looked up in
 * the lists the same way. Compression pointers must point backwards (RFC 1035 §4.1.4 names point
 * to earlier occurrences), which also rules out loops. Throws WireError(FORMERR) when malformed.
 */
export function readWireName(buf: Buffer, offset: number): string {
  let pos = offset;
  let wire = 0;
  let out = '';
  for (;;) {
    if (pos >= buf.length) throw new WireError('name runs past the end of the packet', RCODE.FORMERR);
    const len = buf[pos];
    if (len === 0) return out;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > buf.length) throw new WireError('truncated compression pointer', RCODE.FORMERR);
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      if (target >= pos) throw new WireError('compression pointer does not point backwards', RCODE.FORMERR);
      pos = target;
      continue;
    }
    if (len > 63) throw new WireError('reserved label type', RCODE.FORMERR);
    if (pos + 1 + len > buf.length) throw new WireError('label runs past the end of the packet', RCODE.FORMERR);
    wire += 1 + len;
    if (wire >= MAX_NAME_WIRE) throw new WireError('name longer than 255 bytes', RCODE.FORMERR);
    out += (out === '' ? '' : '.') + escapedLabel(buf, pos + 1, pos + 1 + len);
    pos += 1 + len;
  }
}

/**
 * A possibly compressed name anywhere in a message, as uncompressed wire bytes (labels copied as
 * they are: case and any byte kept), to place in another message. Pointers must point backwards,
 * as readWireName requires. Throws WireError(FORMERR) when malformed.
 */
export function copyWireName(buf: Buffer, offset: number): Buffer {
  const parts: Buffer[] = [];
  let pos = offset;
  let wire = 0;
  for (;;) {
    if (pos >= buf.length) throw new WireError('name runs past the end of the packet', RCODE.FORMERR);
    const len = buf[pos];
    if (len === 0) return Buffer.concat([...parts, Buffer.from([0])]);
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > buf.length) throw new WireError('truncated compression pointer', RCODE.FORMERR);
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      if (target >= pos) throw new WireError('compression pointer does not point backwards', RCODE.FORMERR);
      pos = target;
      continue;
    }
    if (len > 63) throw new WireError('reserved label type', RCODE.FORMERR);
    if (pos + 1 + len > buf.length) throw new WireError('label runs past the end of the packet', RCODE.FORMERR);
    wire += 1 + len;
    if (wire >= MAX_NAME_WIRE) throw new WireError('name longer than 255 bytes', RCODE.FORMERR);
    parts.push(buf.subarray(pos, pos + 1 + len));
    pos += 1 + len;
  }
}

/**
 * Skips a possibly compressed name (in a reply or an additional record) and returns the offset after it.
 * Pointers are not followed: the name ends at the first pointer. Throws WireError on truncation.
 */
export function skipName(buf: Buffer, offset: number): number {
  let pos = offset;
  for (;;) {
    if (pos >= buf.length) throw new WireError('name runs past the end of the packet', RCODE.FORMERR);
    const len = buf[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > buf.length) throw new WireError('truncated compression pointer', RCODE.FORMERR);
      return pos + 2;
    }
    if (len > 63) throw new WireError('reserved label type', RCODE.FORMERR);
    pos += 1 + len;
    if (pos - offset > MAX_NAME_WIRE) throw new WireError('name longer than 255 bytes', RCODE.FORMERR);
  }
}

/** Encodes a presentation name ("www.example.com", no escapes) into wire labels. */
export function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return Buffer.from([0]);
  const parts = trimmed.split('.');
  const out = Buffer.allocUnsafe(trimmed.length + 2);
  let pos = 0;
  for (const p of parts) {
    const len = Buffer.byteLength(p, 'latin1');
    if (len === 0 || len > 63) throw new Error(`invalid label in name "${name}"`);
    out[pos++] = len;
    pos += out.write(p, pos, 'latin1');
  }
  out[pos++] = 0;
  return out.subarray(0, pos);
}

/** A label of a hostname as people and lists write it: letters, digits, - and _ (1-63). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Lower-cases, strips a trailing dot, converts IDN to punycode and checks it is a hostname. */
export function normaliseDomain(name: string): string | { error: string } {
  let d = name.toLowerCase();
  if (d.endsWith('.')) d = d.slice(0, -1);
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(d)) {
    d = domainToASCII(d);
    if (d === '') return { error: `"${name}" is not a valid internationalised domain name` };
  }
  if (d.length === 0) return { error: 'empty domain' };
  if (d.length > 253) return { error: `"${name}" is longer than 253 characters` };
  const labels = d.split('.');
  for (const label of labels) {
    if (!LABEL.test(label)) {
      return { error: `"${name}" is not a domain name (label "${label}" is not 1-63 letters, digits, - or _)` };
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1])) return { error: `"${name}" looks like an IP address, not a domain` };
  return d;
}
