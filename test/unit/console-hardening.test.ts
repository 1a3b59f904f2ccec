/** The console's hardening parts in-process: sign-in throttle, client address, redirect target, cookies, audit names. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressKey, clientAddress, parseProxies } from '../../src/console/client-address.js';
import { parseCookies } from '../../src/console/http.js';
import { LoginLimiter } from '../../src/console/login-limiter.js';
import { auditedName, safeNext } from '../../src/console/pages/login.js';

test('sign-in throttle: a growing delay per account+address; the right user elsewhere is never locked out', () => {
  const l = new LoginLimiter({ perAccount: 5, perIp: 20, windowMs: 15 * 60_000 });
  for (let t = 0; t < 5; t++) l.fail('oso.jones', '10.0.0.66', t);
  assert.equal(l.blockedUntil('oso.jones', '10.0.0.66', 10), { until: 4 + 1000, why: 'account' }, '1 s after the 5th');
  assert.is(l.blockedUntil('OSO.Jones', '10.0.0.5', 10), null, 'the same account from another address is not held up');
  assert.is(l.blockedUntil('oso.jones', '10.0.0.66', 1004), null, 'the wait ends');
  l.fail('oso.jones', '10.0.0.66', 1004);
  assert.equal(l.blockedUntil('oso.jones', '10.0.0.66', 1005)?.until, 1004 + 2000, 'and doubles');
  l.fail('oso.jones', '10.0.0.66', 3004);
  assert.equal(l.blockedUntil('oso.jones', '10.0.0.66', 3005)?.until, 3004 + 4000);
  l.succeed('oso.jones', '10.0.0.66');
  assert.is(l.blockedUntil('oso.jones', '10.0.0.66', 3005), null, 'a good sign-in clears it');
  for (let t = 0; t < 40; t++) l.fail('oso.jones', '10.0.0.77', 10_000 + t);
  assert.equal(l.blockedUntil('oso.jones', '10.0.0.77', 10_100)?.until, 10_039 + 15 * 60_000, 'capped at the window');
  assert.is(l.blockedUntil('oso.jones', '10.0.0.77', 10_039 + 15 * 60_000), null, 'forgotten after the window');
});

test('sign-in throttle: one address trying many accounts is slowed as a whole', () => {
  const l = new LoginLimiter({ perAccount: 5, perIp: 20, windowMs: 60_000 });
  for (let i = 0; i < 20; i++) l.fail(`user${i}`, '10.0.0.9', i);
  assert.equal(l.blockedUntil('someone', '10.0.0.9', 20), { until: 19 + 1000, why: 'address' });
  assert.is(l.blockedUntil('someone', '10.0.0.8', 20), null);
});

test('addresses: IPv6 keyed by /64, IPv4 by address', () => {
  assert.is(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:bbbb:cccc:dddd:2'));
  assert.is(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.is.not(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'));
  assert.is(addressKey('10.0.0.1'), '10.0.0.1');
});

test('client address: X-Forwarded-For only from a trusted proxy, read from the right', () => {
  const proxies = parseProxies(['127.0.0.1/32', '10.0.0.0/30']);
  assert.is(clientAddress('127.0.0.1', '203.0.113.9', proxies), '203.0.113.9');
  assert.is(clientAddress('::ffff:127.0.0.1', '203.0.113.9', proxies), '203.0.113.9');
  assert.is(clientAddress('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.0.0.2', proxies), '203.0.113.9', 'skips proxies');
  assert.is(clientAddress('127.0.0.1', undefined, proxies), '127.0.0.1');
  assert.is(clientAddress('127.0.0.1', 'junk', proxies), '127.0.0.1');
  assert.is(clientAddress('192.0.2.50', '203.0.113.9', proxies), '192.0.2.50', 'a header from anyone else is ignored');
  assert.is(clientAddress('127.0.0.1', '203.0.113.9', []), '127.0.0.1', 'no proxies configured: never believed');
});

test('after sign-in: only a path on this console, nothing with control characters', () => {
  for (const bad of [
    '/\t/evil.example/phish',
    '/\n/evil.example',
    '//evil.example/x',
    '/\\evil.example/x',
    '/\\/evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    '/x\u0000y',
    '',
  ])
    assert.is(safeNext(bad), '/', JSON.stringify(bad));
  assert.is(safeNext('/device?client=10.0.0.1'), '/device?client=10.0.0.1');
  assert.is(safeNext('/a/../signals'), '/signals');
  assert.is(safeNext('/blocked?q=<x>'), '/blocked?q=%3Cx%3E');
});

test('cookies: an undecodable one is ignored, the others kept', () => {
  assert.equal(parseCookies('wf_session=%E0%A4%A; wf_login=abc'), { wf_login: 'abc' });
  assert.equal(parseCookies('a=%41'), { a: 'A' });
});

test('audit: an unknown name is a short hash and a length, an account name is kept', () => {
  const typed = 'CorrectHorse-Battery9';
  const a = auditedName(typed, false);
  assert.match(a, /^unknown #[0-9a-f]{6} \(21 chars\)$/);
  assert.not.ok(a.includes('Horse'));
  assert.is(auditedName(typed, false), a, 'the same name gives the same record');
  assert.is.not(auditedName('another-try', false), a);
  assert.is(auditedName('oso.jones', true), 'oso.jones');
});

test.run();
