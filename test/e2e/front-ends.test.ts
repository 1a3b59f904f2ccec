/**
 * End-to-end: platforms' alternative front-ends (issue 24, the list half) through the real daemon
 * with the shipped platform lists. Knot answers xcancel.com, nitter.net, imginn.com and picuki.com,
 * unbound resolves them for the daemon; dig asks as a student (facebook, instagram and X blocked)
 * and as the sixth form (given X, not Instagram). A front-end is its platform: blocked where the
 * platform is, allowed where it is given, recorded as the platform's blocked attempt, opened by an
 * exception for the platform.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { ROOT, startDaemon, testConfig, type DaemonProcess } from '../helpers/daemon-process.js';
import { dig, readPrinted, type Printed } from '../helpers/dig.js';
import { startResolverStack, type ResolverStack } from '../helpers/resolver-stack.js';

const STUDENT = '127.0.0.10';
const SIXTH_FORM = '127.0.0.20';
const shipped = (platform: string) => readFileSync(path.join(ROOT, 'blocklists/social-media', `${platform}.txt`), 'utf8');
const FILES = {
  'facebook.txt': shipped('facebook'),
  'instagram.txt': shipped('instagram'),
  'twitter-x.txt': shipped('twitter-x'),
};
const config = (upstream: number) =>
  testConfig({
    upstreams: [upstream],
    timeoutMs: 2000,
    categories: '  facebook: [facebook.txt]\n  instagram: [instagram.txt]\n  twitter-x: [twitter-x.txt]',
    groups:
      '  students: { clients: [127.0.0.10/32], block: [facebook, instagram, twitter-x] }\n  sixth-form: { clients: [127.0.0.20/32], block: [instagram] }\n  default: { block: [facebook] }',
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

/** The front-ends the issue names, with their platform (category). */
const FRONT_ENDS: [string, string][] = [
  ['xcancel.com', 'twitter-x'],
  ['nitter.net', 'twitter-x'],
  ['imginn.com', 'instagram'],
  ['www.picuki.com', 'instagram'],
];

const t = suite<{ stack: ResolverStack; d: DaemonProcess }>('front-ends');

t.before(async (ctx) => {
  ctx.stack = await startResolverStack({});
  ctx.d = await startDaemon(config(ctx.stack.unbound.port), FILES);
});

t.after(async ({ stack, d }) => {
  await d?.stop();
  await stack?.stop();
});

t('a front-end is blocked for a group without its platform and allowed for a group given it', async ({ d }) => {
  for (const [name, platform] of FRONT_ENDS) {
    const s = await ask(d, STUDENT, name);
    assert.equal([s.status, s.answers], ['NXDOMAIN', []], `${name} for a student`);
    const f = await ask(d, SIXTH_FORM, name);
    if (platform === 'twitter-x') {
      assert.equal([f.status, f.answers[0]?.[3]], ['NOERROR', '192.0.2.80'], `${name}: the sixth form is given X`);
    } else {
      assert.equal([f.status, f.answers], ['NXDOMAIN', []], `${name}: the sixth form is not given Instagram`);
    }
  }
});

t('a front-end hit is recorded as that platform’s blocked attempt and as a web-proxy signal', async ({ d }) => {
  const rows = await until(
    async () => {
      const all = JSON.parse(
        (await cli(['--config', d.configFile, 'logs', 'blocked', '--json', '--since', '1h'])).stdout || '[]',
      ) as Record<string, string>[];
      return FRONT_ENDS.every(([name]) => all.some((r) => r.qname === name)) ? all : null;
    },
    5000,
    'blocked rows',
  );
  for (const [name, platform] of FRONT_ENDS) {
    const mine = rows.filter((r) => r.qname === name);
    assert.ok(
      mine.some((r) => r.client === STUDENT && r.category === platform),
      `${name}: ${JSON.stringify(mine)}`,
    );
  }
  const signals = await until(
    async () => {
      const out = await cli(['--config', d.configFile, 'logs', 'signals', '--json', '--since', '1h', '--kind', 'web-proxy']);
      const all = JSON.parse(out.stdout || '[]') as Record<string, string | number>[];
      const entry = (name: string) => `list entry ${name.replace(/^www\./, '')}`;
      return FRONT_ENDS.every(([name]) => all.some((s) => s.client === STUDENT && String(s.detail).includes(entry(name))))
        ? all
        : null;
    },
    5000,
    'web-proxy signals for the front-ends',
  );
  assert.ok(signals.every((s) => s.severity === 'medium'));
  // The sixth form is given X: its lookups of X's front-ends were answered, so no signal.
  assert.not.ok(
    signals.some((s) => s.client === SIXTH_FORM && /^(xcancel\.com|nitter\.net)$/.test(String(s.domain))),
    'no signal where the platform is allowed',
  );
  const explained = await cli(['--config', d.configFile, 'check', 'xcancel.com', '--group', 'students', '--no-resolve']);
  assert.match(explained.stdout, /list: +twitter-x — entry "xcancel\.com"/);
  assert.match(explained.stdout, /front-end: "xcancel\.com" is marked as an alternative front-end of twitter-x/);
  assert.match(explained.stdout, /rule: +circumvention \(web-proxy\)/);
  const plain = await cli(['--config', d.configFile, 'check', 'x.com', '--group', 'students', '--no-resolve']);
  assert.not.match(plain.stdout, /front-end|circumvention/, 'the platform itself is not a front-end');
});

t('a front-end behind a translation proxy is its platform too', async ({ d }) => {
  assert.is((await ask(d, STUDENT, 'xcancel-com.translate.goog')).status, 'NXDOMAIN');
  assert.is((await ask(d, SIXTH_FORM, 'xcancel-com.translate.goog')).status, 'NOERROR');
});

t('an exception for the platform opens its front-ends', async ({ d }) => {
  const add = await cli([
    '--config',
    d.configFile,
    'exception',
    'add',
    '--group',
    'students',
    '--category',
    'twitter-x',
    '--for',
    '2m',
    '--reason',
    'test',
    '--approved-by',
    'Head',
  ]);
  assert.is(add.code, 0, add.stderr);
  await until(
    async () => ((await ask(d, STUDENT, 'xcancel.com')).status === 'NOERROR' ? true : null),
    3000,
    'xcancel.com opened by the exception',
  );
  assert.is((await ask(d, STUDENT, 'nitter.net')).status, 'NOERROR');
  assert.is((await ask(d, STUDENT, 'imginn.com')).status, 'NXDOMAIN', 'Instagram stays blocked');
});

t.run();
