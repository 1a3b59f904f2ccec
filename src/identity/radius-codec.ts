/**
 * The RADIUS wire format, as much as accounting needs (RFC 2865 §3 and §5, RFC 2866, RFC 2869,
 * RFC 3162, RFC 6911). Hand-written because npm's `radius` (1.1.4) is not sound: it accepts a Length
 * field under 20 and attributes that run past the packet, decodes a 3-byte Framed-IP-Address as
 * "10.0.1", throws a RangeError on a short Vendor-Specific, and compares authenticators as UTF-8
 * strings (different digests compare equal). Every read here is bounds-checked against the packet's
 * own Length; anything malformed is a RadiusFormatError and the packet is dropped. Fuzzed in
 * test/unit/radius-codec.test.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const CODE = { ACCOUNTING_REQUEST: 4, ACCOUNTING_RESPONSE: 5 } as const;

/** Attribute types read by accounting (RFC 2865, 2866, 2869, 3162, 6911). */
export const ATTR = {
  USER_NAME: 1,
  NAS_IP_ADDRESS: 4,
  FRAMED_IP_ADDRESS: 8,
  FILTER_ID: 11,
  CLASS: 25,
  VENDOR_SPECIFIC: 26,
  CALLING_STATION_ID: 31,
  NAS_IDENTIFIER: 32,
  PROXY_STATE: 33,
  ACCT_STATUS_TYPE: 40,
  ACCT_SESSION_ID: 44,
  MESSAGE_AUTHENTICATOR: 80,
  FRAMED_IPV6_PREFIX: 97,
  FRAMED_IPV6_ADDRESS: 168,
} as const;

/** Acct-Status-Type values (RFC 2866 §5.1). */
export const STATUS = { START: 1, STOP: 2, INTERIM_UPDATE: 3, ACCOUNTING_ON: 7, ACCOUNTING_OFF: 8 } as const;

/** RFC 2865 §3: a packet is 20 to 4096 octets. */
export const MIN_LENGTH = 20;
export const MAX_LENGTH = 4096;
const AUTH_START = 4;
const AUTH_END = 20;
const ZERO_AUTH = Buffer.alloc(16);

/**
 * The packet cannot be read; it is silently dropped (RFC 2865 §3). Made without a stack trace:
 * capturing one costs more than parsing the packet, and a flood of junk is mostly these.
 */
export class RadiusFormatError extends Error {
  override name = 'RadiusFormatError';
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

export interface Attribute {
  type: number;
  /** The value octets (a view into the packet). */
  value: Buffer;
}

export interface RadiusPacket {
  code: number;
  identifier: number;
  /** The packet's octets up to its Length field (a view; octets past Length are padding, ignored). */
  wire: Buffer;
  authenticator: Buffer;
  attributes: Attribute[];
}

/**
 * Reads a datagram. Octets beyond the Length field are ignored (RFC 2865 §3); a Length beyond the
 * datagram, outside 20-4096, or an attribute that does not fit is a RadiusFormatError.
 */
export function parsePacket(datagram: Buffer): RadiusPacket {
  if (datagram.length < MIN_LENGTH) throw new RadiusFormatError(`${datagram.length} octets: shorter than a header`);
  const length = datagram.readUInt16BE(2);
  if (length < MIN_LENGTH || length > MAX_LENGTH) throw new RadiusFormatError(`Length ${length} is outside 20-4096`);
  if (length > datagram.length) throw new RadiusFormatError(`Length ${length} but only ${datagram.length} octets arrived`);
  const wire = datagram.subarray(0, length);
  return {
    code: wire[0],
    identifier: wire[1],
    wire,
    authenticator: wire.subarray(AUTH_START, AUTH_END),
    attributes: parseAttributes(wire, AUTH_END, length),
  };
}

/** Type-Length-Value attributes between `start` and `end`; each Length is at least 2 and fits. */
export function parseAttributes(buf: Buffer, start: number, end: number): Attribute[] {
  const out: Attribute[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 2) throw new RadiusFormatError(`attribute at offset ${at} has no length octet`);
    const len = buf[at + 1];
    if (len < 2) throw new RadiusFormatError(`attribute ${buf[at]} at offset ${at} has Length ${len}`);
    if (at + len > end) throw new RadiusFormatError(`attribute ${buf[at]} at offset ${at} runs past the packet`);
    out.push({ type: buf[at], value: buf.subarray(at + 2, at + len) });
    at += len;
  }
  return out;
}

/**
 * A Vendor-Specific value (RFC 2865 §5.26): the vendor id and, when the value follows the RFC's
 * suggested sub-attribute format, its sub-attributes; `attributes` is null when it does not (the
 * format is only a recommendation, so such a value is kept opaque rather than rejected).
 */
export function parseVendorSpecific(value: Buffer): { vendor: number; attributes: Attribute[] | null } {
  if (value.length < 5) throw new RadiusFormatError(`Vendor-Specific of ${value.length} octets (at least 5)`);
  if (value[0] !== 0) throw new RadiusFormatError('Vendor-Specific with a non-zero high octet of Vendor-Id');
  const vendor = value.readUInt32BE(0);
  try {
    return { vendor, attributes: parseAttributes(value, 4, value.length) };
  } catch {
    return { vendor, attributes: null };
  }
}

/**
 * RFC 2866 §3: an Accounting-Request's authenticator is MD5(Code+Identifier+Length+16 zero
 * octets+Attributes+Secret). Compared in constant time.
 */
export function verifyAccountingRequest(p: RadiusPacket, secret: Buffer): boolean {
  const md5 = createHash('md5')
    .update(p.wire.subarray(0, AUTH_START))
    .update(ZERO_AUTH)
    .update(p.wire.subarray(AUTH_END))
    .update(secret)
    .digest();
  return timingSafeEqual(md5, p.authenticator);
}

/** Encodes attributes; throws when a value does not fit in one attribute (253 octets). */
export function encodeAttributes(attrs: readonly Attribute[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of attrs) {
    if (a.value.length > 253) throw new RangeError(`attribute ${a.type}: ${a.value.length} octets (at most 253)`);
    parts.push(Buffer.from([a.type, a.value.length + 2]), a.value);
  }
  return Buffer.concat(parts);
}

/** An Accounting-Request signed with `secret` (for tests, benches and tools: the daemon only receives them). */
export function encodeAccountingRequest(identifier: number, attrs: readonly Attribute[], secret: Buffer): Buffer {
  const body = encodeAttributes(attrs);
  const wire = Buffer.alloc(AUTH_END + body.length);
  wire[0] = CODE.ACCOUNTING_REQUEST;
  wire[1] = identifier;
  wire.writeUInt16BE(wire.length, 2);
  body.copy(wire, AUTH_END);
  createHash('md5').update(wire).update(secret).digest().copy(wire, AUTH_START);
  return wire;
}

/**
 * The Accounting-Response to a verified request (RFC 2866 §4.2): same Identifier, the request's
 * Proxy-State attributes copied in order (RFC 2865 §5.33), and Response Authenticator
 * MD5(Code+Identifier+Length+Request Authenticator+Attributes+Secret).
 */
export function accountingResponse(request: RadiusPacket, secret: Buffer): Buffer {
  const body = encodeAttributes(request.attributes.filter((a) => a.type === ATTR.PROXY_STATE));
  const wire = Buffer.alloc(AUTH_END + body.length);
  wire[0] = CODE.ACCOUNTING_RESPONSE;
  wire[1] = request.identifier;
  wire.writeUInt16BE(wire.length, 2);
  request.authenticator.copy(wire, AUTH_START);
  body.copy(wire, AUTH_END);
  createHash('md5').update(wire).update(secret).digest().copy(wire, AUTH_START);
  return wire;
}

/** Whether a response carries the authenticator a server with `secret` would give it for `request`. */
export function verifyResponse(response: Buffer, request: RadiusPacket, secret: Buffer): boolean {
  if (response.length < MIN_LENGTH) return false;
  const md5 = createHash('md5')
    .update(response.subarray(0, AUTH_START))
    .update(request.authenticator)
    .update(response.subarray(AUTH_END))
    .update(secret)
    .digest();
  return timingSafeEqual(md5, response.subarray(AUTH_START, AUTH_END));
}
