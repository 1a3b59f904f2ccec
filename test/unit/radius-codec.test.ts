/**
 * The RADIUS codec against RFC 2865/2866/2869/3162/6911 and fuzzing (fast-check, fixed seed): the
 * cases npm's `radius` gets wrong are rejected here, any bytes parse or fail with RadiusFormatError
 * only, and every view stays inside the packet's Length.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { readAccounting } from '../../src/identity/accounting.js';
import {
  accountingResponse,
  ATTR,
  parsePacket,
  parseVendorSpecific,
  RadiusFormatError,
  STATUS,
  verifyAccountingRequest,
  verifyResponse,
} from '../../src/identity/radius-codec.js';
import { accountingRequest, attr, hostilePacket, validPacket } from '../helpers/radius-packets.js';

const SECRET = 'testing123';
const KEY = Buffer.from(SECRET);
const params = { seed: 20261130, numRuns: 5000 };

const rejects = (b: Buffer, why: RegExp) => {
  try {
    parsePacket(b);
  } catch (e) {
    assert.instance(e, RadiusFormatError);
    assert.match((e as Error).message, why);
    return;
  }
  assert.unreachable(`accepted ${b.toString('hex')}`);
};

test('the Request Authenticator is MD5(Code+ID+Length+16 zero octets+Attributes+Secret) (RFC 2866 §3)', () => {
  const wire = accountingRequest([attr.status(STATUS.START), attr.user('j.smith')], SECRET, 42);
  const zeroed = Buffer.from(wire);
  zeroed.fill(0, 4, 20);
  const expected = createHash('md5').update(zeroed).update(SECRET).digest();
  assert.equal(wire.subarray(4, 20), expected);
  const p = parsePacket(wire);
  assert.ok(verifyAccountingRequest(p, KEY));
  assert.not.ok(verifyAccountingRequest(p, Buffer.from('testing124')), 'another secret fails');
  // Every single-bit change anywhere in the packet fails verification.
  for (let bit = 0; bit < wire.length * 8; bit++) {
    const c = Buffer.from(wire);
    c[bit >> 3] ^= 1 << (bit & 7);
    let ok = false;
    try {
      ok = verifyAccountingRequest(parsePacket(c), KEY);
    } catch (e) {
      assert.instance(e, RadiusFormatError);
    }
    assert.not.ok(ok, `bit ${bit} flipped and still verified`);
  }
});

test('the Accounting-Response: same Identifier, Proxy-State copied, MD5 over the request authenticator (RFC 2866 §4.2)', () => {
  const req = parsePacket(
    accountingRequest([attr.status(STATUS.STOP), attr.proxyState(Buffer.from('p1')), attr.user('u')], SECRET, 9),
  );
  const res = accountingResponse(req, KEY);
  assert.is(res[0], 5);
  assert.is(res[1], 9);
  assert.is(res.readUInt16BE(2), res.length);
  assert.equal(
    parsePacket(res).attributes.map((a) => [a.type, a.value.toString()]),
    [[ATTR.PROXY_STATE, 'p1']],
  );
  assert.ok(verifyResponse(res, req, KEY));
  assert.not.ok(verifyResponse(res, req, Buffer.from('other')));
});

test('malformed packets that npm `radius` 1.1.4 accepts are rejected (RFC 2865 §3, §5)', () => {
  const ok = accountingRequest([attr.status(1), attr.user('ab')], SECRET);
  const len = (n: number) => {
    const c = Buffer.from(ok);
    c.writeUInt16BE(n, 2);
    return c;
  };
  rejects(len(10), /outside 20-4096/);
  rejects(len(ok.length + 1), /only/);
  rejects(len(5000), /outside/);
  rejects(ok.subarray(0, 19), /shorter than a header/);
  // An attribute whose Length runs past the packet ("User-Name" of 40 octets with 2 present).
  const overrun = Buffer.from(ok);
  overrun[27] = 40;
  rejects(overrun, /runs past/);
  const zero = Buffer.from(ok);
  zero[27] = 0;
  rejects(zero, /Length 0/);
  // Octets after Length are padding, ignored (RFC 2865 §3).
  assert.is(parsePacket(Buffer.concat([ok, Buffer.from([1, 2, 3])])).wire.length, ok.length);
  // A 3-octet Framed-IP-Address and a short IPv6 address are errors, not "10.0.1".
  const read = (attrs: Parameters<typeof accountingRequest>[0]) =>
    readAccounting(parsePacket(accountingRequest(attrs, SECRET)), '10.0.0.1', 'filter-id');
  assert.throws(
    () => read([attr.status(1), { type: ATTR.FRAMED_IP_ADDRESS, value: Buffer.from([10, 0, 1]) }]),
    /Framed-IP-Address of 3/,
  );
  assert.throws(
    () => read([attr.status(1), { type: ATTR.FRAMED_IPV6_ADDRESS, value: Buffer.alloc(15) }]),
    /Framed-IPv6-Address of 15/,
  );
  assert.throws(
    () => read([attr.status(1), { type: ATTR.FRAMED_IPV6_PREFIX, value: Buffer.from([0, 64, 0x20, 1]) }]),
    /\/64 in 2/,
  );
  assert.throws(() => read([attr.user('x')]), /no Acct-Status-Type/);
  // A Vendor-Specific too short for its Vendor-Id is an error, not a RangeError.
  assert.throws(
    () => parseVendorSpecific(Buffer.from([0, 0])),
    (e: unknown) => e instanceof RadiusFormatError,
  );
  assert.equal(parseVendorSpecific(Buffer.from([0, 0, 0x39, 0xe7, 1, 4, 0x61, 0x62])), {
    vendor: 14823,
    attributes: [{ type: 1, value: Buffer.from('ab') }],
  });
  assert.is(parseVendorSpecific(Buffer.from([0, 0, 0, 9, 1, 9, 0x61])).attributes, null, 'non-RFC format kept opaque');
});

test('accounting facts: addresses in canonical form, MAC normalised, group values in order', () => {
  const v6 = Buffer.from('20010db8000100020000000000000005', 'hex');
  const r = readAccounting(
    parsePacket(
      accountingRequest(
        [
          attr.status(STATUS.START),
          attr.user('j.smith'),
          attr.session('abc'),
          attr.mac('AA-BB-CC-DD-EE-0F'),
          attr.ipv4('10.20.3.4'),
          attr.ipv4('255.255.255.254'),
          attr.ipv6(v6),
          attr.prefix(64, v6),
          attr.prefix(16, v6),
          attr.klass(Buffer.from([0xff, 0xfe, 0x00, 0x01])),
          attr.klass('staff'),
          attr.filterId('students'),
        ],
        SECRET,
      ),
    ),
    '10.0.0.1',
    'class',
  );
  assert.equal(r, {
    nas: '10.0.0.1',
    status: 1,
    user: 'j.smith',
    session: 'abc',
    mac: 'aa:bb:cc:dd:ee:0f',
    addresses: ['10.20.3.4', '2001:db8:1:2::5', '2001:db8:1:2::/64'],
    groups: ['staff'],
  });
});

test('fuzz: any bytes parse inside their Length or fail with RadiusFormatError; nothing else is thrown', () => {
  fc.assert(
    fc.property(hostilePacket(SECRET), (buf) => {
      let p;
      try {
        p = parsePacket(buf);
      } catch (e) {
        if (!(e instanceof RadiusFormatError)) throw e;
        return;
      }
      assert.ok(p.wire.length >= 20 && p.wire.length <= Math.min(4096, buf.length));
      let end = 20;
      for (const a of p.attributes) {
        assert.is(a.value.buffer, buf.buffer, 'a view into the packet');
        assert.ok(a.value.byteOffset - buf.byteOffset + a.value.length <= p.wire.length);
        end += a.value.length + 2;
      }
      assert.is(end, p.wire.length, 'attributes cover the packet exactly');
      const verified = verifyAccountingRequest(p, KEY);
      try {
        readAccounting(p, '10.0.0.1', 'filter-id');
        for (const a of p.attributes) if (a.type === ATTR.VENDOR_SPECIFIC) parseVendorSpecific(a.value);
      } catch (e) {
        if (!(e instanceof RadiusFormatError)) throw e;
      }
      if (verified) assert.ok(verifyResponse(accountingResponse(p, KEY), p, KEY));
    }),
    params,
  );
});

test('fuzz: well-formed signed packets round-trip and verify', () => {
  fc.assert(
    fc.property(validPacket(SECRET), (buf) => {
      const p = parsePacket(buf);
      assert.ok(verifyAccountingRequest(p, KEY));
    }),
    { ...params, numRuns: 2000 },
  );
});

test.run();
