/** The console's hardening parts in-process: sign-in throttle, client address, redirect target, cookies, audit names. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressKey, clientAddress, parseProxies } from '../../src/console/client-address.js';
import { parseCookies } from '../../src/console/http.js';
import { LoginLimiter } from '../../src/console/login-limiter.js';
import { auditedName, safeNext } from '../../src/console/pages/login.js';

const LIMITS = { perAccount: 5, perIp: 20, windowMs: 15 * 60_000 };

test('sign-in throttle: a growing delay per account+address; the right user elsewhere is never locked out', async () => {
  let t = 0;
  const l = new LoginLimiter(() => t);
  for (t = 0; t < 5; t++) await l.fail('oso.jones', '10.0.0.66', LIMITS);
  t = 10;
  assert.equal(await l.held('oso.jones', '10.0.0.66', LIMITS), { waitMs: 4 + 1000 - 10, why: 'account' }, '1 s after the 5th');
  assert.is(await l.held('OSO.Jones', '10.0.0.5', LIMITS), null, 'the same account from another address is not held up');
  t = 1004;
  assert.is(await l.held('oso.jones', '10.0.0.66', LIMITS), null, 'the wait ends');
  await l.fail('oso.jones', '10.0.0.66', LIMITS);
  t = 1005;
  assert.equal((await l.held('oso.jones', '10.0.0.66', LIMITS))?.waitMs, 1004 + 2000 - t, 'and doubles');
  t = 3004;
  await l.fail('oso.jones', '10.0.0.66', LIMITS);
  t = 3005;
  assert.equal((await l.held('oso.jones', '10.0.0.66', LIMITS))?.waitMs, 3004 + 4000 - t);
  await l.succeed('oso.jones', '10.0.0.66');
  assert.is(await l.held('oso.jones', '10.0.0.66', LIMITS), null, 'a good sign-in clears it');
  for (t = 10_000; t < 10_040; t++) await l.fail('oso.jones', '10.0.0.77', LIMITS);
  t = 10_100;
  assert.equal((await l.held('oso.jones', '10.0.0.77', LIMITS))?.waitMs, 10_039 + 15 * 60_000 - t, 'capped at the window');
  t = 10_039 + 15 * 60_000;
  assert.is(await l.held('oso.jones', '10.0.0.77', LIMITS), null, 'forgotten after the window');
});

test('sign-in throttle: one address trying many accounts is slowed as a whole', async () => {
  let t = 0;
  const l = new LoginLimiter(() => t);
  const limits = { ...LIMITS, windowMs: 60_000 };
  for (t = 0; t < 20; t++) await l.fail(`user${t}`, '10.0.0.9', limits);
  t = 20;
  assert.equal(await l.held('someone', '10.0.0.9', limits), { waitMs: 19 + 1000 - 20, why: 'address' });
  assert.is(await l.held('someone', '10.0.0.8', limits), null);
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
