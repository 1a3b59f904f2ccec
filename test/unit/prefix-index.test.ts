import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCidr } from '../../src/net/cidr.js';
import { parseIp, parseIPv4 } from '../../src/net/ip.js';
import { PrefixIndex } from '../../src/net/prefix-index.js';

function index(entries: [string, string][]) {
  const idx = new PrefixIndex<string>();
  for (const [c, v] of entries) idx.add(parseCidr(c), v);
  return idx;
}

test('IPv4 longest prefix wins', () => {
  const idx = index([
    ['10.0.0.0/8', 'school'],
    ['10.20.0.0/16', 'students'],
    ['10.20.12.0/24', 'room-12'],
    ['10.20.12.7', 'teacher-pc'],
  ]);
  assert.is(idx.lookup('10.1.2.3'), 'school');
  assert.is(idx.lookup('10.20.1.1'), 'students');
  assert.is(idx.lookup('10.20.12.200'), 'room-12');
  assert.is(idx.lookup('10.20.12.7'), 'teacher-pc');
  assert.is(idx.lookup('11.0.0.1'), undefined);
  assert.is(idx.lookup('not an ip'), undefined);
});

test('IPv6 longest prefix wins, IPv4-mapped IPv6 matches IPv4 networks', () => {
  const idx = index([
    ['fd00::/8', 'ula'],
    ['fd00:20::/32', 'students'],
    ['fd00:20:0:12::/64', 'room-12'],
    ['10.20.0.0/16', 'v4-students'],
    ['::/0', 'any-v6'],
  ]);
  assert.is(idx.lookup('fd12::1'), 'ula');
  assert.is(idx.lookup('fd00:20:1::1'), 'students');
  assert.is(idx.lookup('fd00:20:0:12:abcd::9'), 'room-12');
  assert.is(idx.lookup('2001:db8::1'), 'any-v6');
  assert.is(idx.lookup('::ffff:10.20.3.4'), 'v4-students');
});

test('/0 matches everything of its family', () => {
  const idx = index([['0.0.0.0/0', 'all']]);
  assert.is(idx.lookup('203.0.113.9'), 'all');
  assert.is(idx.lookup('::1'), undefined);
});

test('a duplicate network is refused', () => {
  const idx = new PrefixIndex<string>();
  assert.ok(idx.add(parseCidr('10.0.0.0/8'), 'a'));
  assert.not.ok(idx.add(parseCidr('10.0.0.0/8'), 'b'));
  assert.is(idx.lookup('10.9.9.9'), 'a');
});

test('parseCidr explains what is wrong', () => {
  assert.throws(() => parseCidr('10.0.0.0/33'), /"10.0.0.0\/33" is not a CIDR/);
  assert.throws(() => parseCidr('10.0.0/8'), /is not a CIDR/);
  assert.throws(() => parseCidr('10.20.1.0/16'), /host bits set.*10\.20\.0\.0\/16/);
  assert.throws(() => parseCidr('fd00::1/8'), /host bits set/);
  assert.throws(() => parseCidr('fd00::/129'), /0-128/);
  assert.is(parseCidr('fd00::/8').prefix, 8);
  assert.is(parseCidr('192.168.1.5').prefix, 32);
});

test('IP parsing', () => {
  assert.is(parseIPv4('255.255.255.255'), 0xffffffff);
  assert.is(parseIPv4('1.2.3'), -1);
  assert.is(parseIPv4('01.2.3.4'), -1);
  assert.is(parseIPv4('1.2.3.256'), -1);
  assert.equal(Array.from(parseIp('2001:db8::1')!.bytes), [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(parseIp('::ffff:192.0.2.1'), { family: 4, bytes: new Uint8Array([192, 0, 2, 1]) });
  assert.equal(Array.from(parseIp('fe80::1%eth0')!.bytes).slice(0, 2), [0xfe, 0x80]);
  assert.is(parseIp('1::2::3'), null);
  assert.is(parseIp('1:2:3:4:5:6:7:8:9'), null);
  assert.is(parseIp('12345::'), null);
});

test.run();
