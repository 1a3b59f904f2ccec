/**
 * RADIUS accounting packets for tests: well-formed ones signed with a secret (through the codec's
 * encoder, itself checked against radclient in the end-to-end tests), and fast-check arbitraries of
 * valid and broken packets for the fuzz tests.
 */
import fc from 'fast-check';
import { ATTR, encodeAccountingRequest, STATUS, type Attribute } from '../../src/identity/radius-codec.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Attribute builders by meaning. */
export const attr = {
  status: (s: number): Attribute => ({ type: ATTR.ACCT_STATUS_TYPE, value: u32(s) }),
  user: (u: string): Attribute => ({ type: ATTR.USER_NAME, value: Buffer.from(u) }),
  session: (s: string): Attribute => ({ type: ATTR.ACCT_SESSION_ID, value: Buffer.from(s) }),
  ipv4: (ip: string): Attribute => ({ type: ATTR.FRAMED_IP_ADDRESS, value: Buffer.from(ip.split('.').map(Number)) }),
  ipv6: (bytes: Uint8Array): Attribute => ({ type: ATTR.FRAMED_IPV6_ADDRESS, value: Buffer.from(bytes) }),
  prefix: (len: number, bytes: Uint8Array): Attribute => ({
    type: ATTR.FRAMED_IPV6_PREFIX,
    value: Buffer.concat([Buffer.from([0, len]), Buffer.from(bytes.subarray(0, Math.ceil(len / 8)))]),
  }),
  filterId: (g: string): Attribute => ({ type: ATTR.FILTER_ID, value: Buffer.from(g) }),
  klass: (v: string | Buffer): Attribute => ({ type: ATTR.CLASS, value: Buffer.from(v) }),
  mac: (m: string): Attribute => ({ type: ATTR.CALLING_STATION_ID, value: Buffer.from(m) }),
  proxyState: (v: Buffer): Attribute => ({ type: ATTR.PROXY_STATE, value: v }),
};

/** A signed Accounting-Request. */
export function accountingRequest(attrs: Attribute[], secret: string, id = 1): Buffer {
  return encodeAccountingRequest(id, attrs, Buffer.from(secret));
}

const text = fc.string({ minLength: 1, maxLength: 40 });
const anyAttribute: fc.Arbitrary<Attribute> = fc.oneof(
  fc.constantFrom(STATUS.START, STATUS.STOP, STATUS.INTERIM_UPDATE, STATUS.ACCOUNTING_ON, 9).map(attr.status),
  text.map(attr.user),
  text.map(attr.session),
  text.map(attr.filterId),
  fc
    .oneof(
      text,
      fc.uint8Array({ minLength: 1, maxLength: 60 }).map((a) => Buffer.from(a)),
    )
    .map(attr.klass),
  fc.ipV4().map(attr.ipv4),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map(attr.ipv6),
  fc.tuple(fc.integer({ min: 0, max: 128 }), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([l, b]) => attr.prefix(l, b)),
  fc.constantFrom('aa-bb-cc-dd-ee-ff', 'AABB.CCDD.EEFF', 'not a mac').map(attr.mac),
  // Vendor-Specific: well-formed sub-attributes or opaque bytes.
  fc.tuple(fc.integer({ min: 1, max: 0xffffff }), fc.uint8Array({ minLength: 1, maxLength: 40 })).map(([v, d]) => ({
    type: ATTR.VENDOR_SPECIFIC,
    value: Buffer.concat([Buffer.from([0, v >> 16, (v >> 8) & 255, v & 255]), Buffer.from(d)]),
  })),
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 30 }))
    .map(([t, v]) => ({ type: t, value: Buffer.from(v) })),
);

/** Well-formed, correctly signed Accounting-Requests with any mix of attributes. */
export function validPacket(secret: string): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.nat(255), fc.array(anyAttribute, { maxLength: 12 }))
    .map(([id, attrs]) => accountingRequest(attrs, secret, id));
}

type Mutation = (b: Buffer) => Buffer;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.array(fc.nat(), { minLength: 1, maxLength: 6 }).map((ps): Mutation => (b) => {
    const c = Buffer.from(b);
    for (const p of ps) c[p % c.length] ^= 1 << (p % 8);
    return c;
  }),
  fc.nat().map(
    (n): Mutation =>
      (b) =>
        b.subarray(0, n % (b.length + 1)),
  ),
  // The Length field lies.
  fc.constantFrom(0, 1, 19, 20, 21, 4096, 4097, 0xffff).map((v): Mutation => (b) => {
    const c = Buffer.from(b);
    if (c.length >= 4) c.writeUInt16BE(v, 2);
    return c;
  }),
  // An attribute length of 0, 1 or past the end.
  fc.tuple(fc.nat(), fc.constantFrom(0, 1, 255)).map(([at, v]): Mutation => (b) => {
    const c = Buffer.from(b);
    if (c.length > 21) c[20 + ((at % (c.length - 20)) | 1)] = v;
    return c;
  }),
  fc.uint8Array({ maxLength: 40 }).map(
    (junk): Mutation =>
      (b) =>
        Buffer.concat([b, Buffer.from(junk)]),
  ),
);

/** Valid packets broken in the ways packets break, and plain junk. */
export function hostilePacket(secret: string): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc
      .tuple(validPacket(secret), fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([p, ms]) => ms.reduce((b, m) => m(b), p)),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    validPacket(secret),
  );
}
