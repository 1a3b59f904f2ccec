/** Unit: the per-client token bucket (server.rate_limit). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RateLimiter, type RateLimitSettings } from '../../src/server/rate-limiter.js';

const settings = (s: Partial<RateLimitSettings> = {}): RateLimitSettings => ({
  qps: 10,
  burst: 5,
  ipv4_prefix: 32,
  ipv6_prefix: 128,
  action: 'drop',
  max_clients: 1000,
  ...s,
});

/** How many of `n` queries at time `t` are allowed. */
const allowed = (l: RateLimiter, address: string, n: number, t: number) => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (l.allow(address, t)) ok++;
  return ok;
};

test('a client gets its burst, then the sustained rate; other clients are not affected', () => {
  const l = new RateLimiter(settings());
  assert.is(allowed(l, '10.0.0.1', 20, 0), 5, 'burst of 5');
  assert.is(l.limited, 15);
  assert.is(allowed(l, '10.0.0.2', 5, 0), 5, 'another client has its own bucket');
  assert.is(allowed(l, '10.0.0.1', 5, 100), 1, '10 qps → one token per 100 ms');
  assert.is(allowed(l, '10.0.0.1', 20, 10_000), 5, 'refills up to the burst, never beyond');
});

test('qps 0 turns limiting off', () => {
  const l = new RateLimiter(settings({ qps: 0 }));
  assert.is(allowed(l, '10.0.0.1', 1000, 0), 1000);
  assert.is(l.size, 0, 'nothing tracked when off');
});

test('clients are counted per /24 and per /56 when configured', () => {
  const l = new RateLimiter(settings({ ipv4_prefix: 24, ipv6_prefix: 56 }));
  assert.is(allowed(l, '10.1.2.3', 3, 0), 3);
  assert.is(allowed(l, '10.1.2.200', 5, 0), 2, 'same /24 shares the bucket');
  assert.is(allowed(l, '10.1.3.1', 5, 0), 5, 'next /24 has its own');
  assert.is(allowed(l, '2001:db8:0:ab01::1', 3, 0), 3);
  assert.is(allowed(l, '2001:db8:0:abff::2', 5, 0), 2, 'same /56 shares the bucket');
  assert.is(allowed(l, '2001:db8:0:ac00::1', 5, 0), 5, 'next /56 has its own');
});

test('the table is bounded: idle clients are forgotten first, and a full table fails open', () => {
  const l = new RateLimiter(settings({ max_clients: 3 }));
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) l.allow(a, 0);
  assert.is(l.size, 3);
  // 10 s later all three have refilled: they are swept to make room.
  assert.ok(l.allow('10.0.0.4', 10_000));
  assert.is(l.size, 1);
  for (const a of ['10.0.0.5', '10.0.0.6']) l.allow(a, 10_000);
  assert.ok(l.allow('10.0.0.7', 10_000), 'a new client is admitted even when nobody can be swept');
  assert.is(l.overflows, 1);
  assert.ok(l.size <= 3);
});

test('reconfigure keeps the clients and applies the new rate', () => {
  const l = new RateLimiter(settings());
  allowed(l, '10.0.0.1', 5, 0);
  l.configure(settings({ qps: 100 }));
  assert.is(allowed(l, '10.0.0.1', 5, 10), 1, 'still empty after a reload; 100 qps → 1 token per 10 ms');
});

test('the most-limited clients are reported for the log, then forgotten', () => {
  const l = new RateLimiter(settings({ burst: 1 }));
  allowed(l, '10.0.0.1', 10, 0);
  allowed(l, '10.0.0.2', 4, 0);
  allowed(l, '10.0.0.3', 1, 0);
  assert.equal(l.takeOffenders(), [
    { client: '10.0.0.1', limited: 9 },
    { client: '10.0.0.2', limited: 3 },
  ]);
  assert.equal(l.takeOffenders(), []);
});

test.run();
