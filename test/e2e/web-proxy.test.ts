/**
 * End-to-end: web proxies that carry a blocked site's name (issue 24, the decoder half). Knot
 * answers every *.translate.goog, *.cdn.ampproject.org and *.webpkgcache.com name, unbound resolves them for the
 * daemon; dig asks as a student (facebook, instagram and X blocked) and as the sixth form (nothing).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cli } from '../helpers/cli.js';
import { startDaemon, testConfig, type DaemonProcess } from '../helpers/daemon-process.js';
import { dig, readPrinted, type Printed } from '../helpers/dig.js';
import { startResolverStack, type ResolverStack } from '../helpers/resolver-stack.js';

const STUDENT = '127.0.0.10';
const SIXTH_FORM = '127.0.0.20';
const FILES = { 'facebook.txt': 'facebook.com\n', 'instagram.txt': 'instagram.com\n', 'x.txt': 'x.com\ntwitter.com\n' };
const config = (upstream: number, extra = '') =>
  testConfig({
    upstreams: [upstream],
    timeoutMs: 2000,
    categories: '  facebook: [facebook.txt]\n  instagram: [instagram.txt]\n  twitter-x: [x.txt]',
    groups:
      '  students: { clients: [127.0.0.10/32], block: [facebook, instagram, twitter-x] }\n  sixth-form: { clients: [127.0.0.20/32], block: [] }\n  default: { block: [facebook] }',
    extra,
  });
const ask = async (d: DaemonProcess, from: string, name: string): Promise<Printed> =>
  readPrinted(await dig(d.port, '-b', from, name));

async function until<T>(fn: () => Promise<T | null>, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const PROXIED: [string, string, string][] = [
  ['www-facebook-com.translate.goog', 'www.facebook.com', 'facebook'],
  ['www-instagram-com.translate.goog', 'www.instagram.com', 'instagram'],
  ['x-com.translate.goog', 'x.com', 'twitter-x'],
  ['www-facebook-com.cdn.ampproject.org', 'www.facebook.com', 'facebook'],
  ['www-instagram-com.webpkgcache.com', 'www.instagram.com', 'instagram'],
];

const t = suite<{ stack: ResolverStack; d: DaemonProcess }>('web proxies');

t.before(async (ctx) => {
  ctx.stack = await startResolverStack({});
  ctx.d = await startDaemon(config(ctx.stack.unbound.port), FILES);
});

t.after(async ({ stack, d }) => {
  await d?.stop();
  await stack?.stop();
});

t('a proxy name for a blocked platform is blocked for a group that blocks it, allowed for one that allows it', async ({ d }) => {
  for (const [name] of PROXIED) {
    const s = await ask(d, STUDENT, name);
    assert.equal([s.status, s.answers], ['NXDOMAIN', []], `${name} for a student`);
    const f = await ask(d, SIXTH_FORM, name);
    assert.is(f.status, 'NOERROR', `${name} for the sixth form`);
    assert.match(f.answers[0][3], /^192\.0\.2\.7[012]$/);
  }
  const bbc = await ask(d, STUDENT, 'www-bbc-co-uk.translate.goog');
  assert.equal([bbc.status, bbc.answers[0]?.[3]], ['NOERROR', '192.0.2.70'], 'an allowed site keeps working through the proxy');
  const nested = await ask(d, STUDENT, 'www--facebook--com-translate-goog.translate.goog');
  assert.is(nested.status, 'NXDOMAIN', 'a proxy of a proxy');
});

t('each is recorded as the platform’s blocked attempt with via, and as a web-proxy signal', async ({ d }) => {
  const rows = await until(
    async () => {
      const all = JSON.parse(
        (await cli(['--config', d.configFile, 'logs', 'blocked', '--json', '--since', '1h'])).stdout || '[]',
      );
      return (all as Record<string, string>[]).filter((r) => r.via).length >= PROXIED.length + 1 ? all : null;
    },
    5000,
    'blocked rows',
  );
  for (const [name, target, category] of PROXIED) {
    const row = (rows as Record<string, string>[]).find((r) => r.qname === name);
    assert.ok(row, name);
    assert.equal([row!.via, row!.category, row!.client], [`${name} → ${target}`, category, STUDENT]);
  }
  const nested = (rows as Record<string, string>[]).find((r) => r.qname.startsWith('www--facebook'));
  assert.is(nested!.via, 'www--facebook--com-translate-goog.translate.goog → www-facebook-com.translate.goog → www.facebook.com');
  const signals = await until(
    async () => {
      const out = await cli(['--config', d.configFile, 'logs', 'signals', '--json', '--since', '1h', '--kind', 'web-proxy']);
      const all = JSON.parse(out.stdout || '[]') as Record<string, string | number>[];
      return all.reduce((n, s) => n + Number(s.count), 0) >= PROXIED.length + 1 ? all : null;
    },
    5000,
    'web-proxy signals',
  );
  assert.ok(signals.every((s) => s.severity === 'medium' && s.client === STUDENT));
  assert.ok(signals.some((s) => /via www-facebook-com\.translate\.goog → www\.facebook\.com/.test(String(s.detail))));
});

t('check explains the decoding and the site’s decision', async ({ d }) => {
  const out = await cli(['--config', d.configFile, 'check', 'www-facebook-com.translate.goog', '--group', 'students']);
  assert.is(out.code, 0, out.stderr);
  assert.match(
    out.stdout,
    /proxy: +www-facebook-com\.translate\.goog is Google Translate's website proxy showing www\.facebook\.com/,
  );
  assert.match(out.stdout, /list: +facebook — entry "facebook\.com"/);
  assert.match(out.stdout, /rule: +circumvention \(web-proxy\)/);
  assert.match(out.stdout, /answer: +blocked — NXDOMAIN/);
  const j = JSON.parse(
    (await cli(['--config', d.configFile, 'check', 'www-facebook-com.cdn.ampproject.org', '--group', 'students', '--json']))
      .stdout,
  );
  assert.equal(
    [j.decision, j.via, j.signal, j.proxy.hosts],
    ['blocked', 'www-facebook-com.cdn.ampproject.org → www.facebook.com', 'web-proxy', ['www.facebook.com']],
  );
  const allowed = JSON.parse(
    (
      await cli([
        '--config',
        d.configFile,
        'check',
        'www-facebook-com.translate.goog',
        '--group',
        'sixth-form',
        '--json',
        '--no-resolve',
      ])
    ).stdout,
  );
  assert.equal([allowed.decision, allowed.proxy.hosts], ['allowed', ['www.facebook.com']]);
});

t('an exception for the platform opens its proxied names too, with TTLs ending with it', async ({ d }) => {
  const add = await cli([
    '--config',
    d.configFile,
    'exception',
    'add',
    '--group',
    'students',
    '--category',
    'facebook',
    '--for',
    '2m',
    '--reason',
    'test',
    '--approved-by',
    'Head',
  ]);
  assert.is(add.code, 0, add.stderr);
  const opened = await until(
    async () => {
      const r = await ask(d, STUDENT, 'www-facebook-com.translate.goog');
      return r.status === 'NOERROR' ? r : null;
    },
    3000,
    'opened by the exception',
  );
  assert.ok(
    opened.answers.every(([, ttl]) => ttl <= 120),
    `TTLs ${opened.answers.map((a) => a[1])}`,
  );
  assert.is((await ask(d, STUDENT, 'www-instagram-com.translate.goog')).status, 'NXDOMAIN', 'instagram still blocked');
});

t('circumvention.web_proxy: { enabled: false } turns the decoding off', async ({ stack }) => {
  const off = await startDaemon(config(stack.unbound.port, 'circumvention: { web_proxy: { enabled: false } }'), FILES);
  try {
    assert.is((await ask(off, STUDENT, 'www-facebook-com.translate.goog')).status, 'NOERROR');
  } finally {
    await off.stop();
  }
});

t.run();
