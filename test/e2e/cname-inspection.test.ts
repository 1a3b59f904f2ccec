/**
 * End-to-end: CNAME inspection (issue 14 point 8). Knot serves names that lead to blocked sites
 * through CNAME chains, a DNAME and HTTPS TargetNames; unbound resolves them for webfilter; dig
 * asks as a student (facebook and instagram blocked) and as the sixth form (nothing blocked).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startDaemon, testConfig, type DaemonProcess } from '../helpers/daemon-process.js';
import { dig, readPrinted, type Printed } from '../helpers/dig.js';
import { cli } from '../helpers/cli.js';
import { startResolverStack, type ResolverStack } from '../helpers/resolver-stack.js';

const STUDENT = '127.0.0.10';
const SIXTH_FORM = '127.0.0.20';
const FILES = { 'facebook.txt': 'facebook.com\n', 'instagram.txt': 'instagram.com\n', 'doh.txt': 'dns.google\n' };
const config = (upstream: number, extra = '') =>
  testConfig({
    upstreams: [upstream],
    timeoutMs: 2000,
    extra: `circumvention: { encrypted_dns: { lists: [doh.txt] } }\n${extra}`,
  });

const ask = async (d: DaemonProcess, from: string, name: string, type = 'A'): Promise<Printed> =>
  readPrinted(await dig(d.port, '-b', from, name, type));

/** Polls `fn` until it returns a truthy value (or fails after `ms`). */
async function until<T>(fn: () => Promise<T | null>, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const t = suite<{ stack: ResolverStack; d: DaemonProcess }>('cname inspection');

t.before(async (ctx) => {
  ctx.stack = await startResolverStack({});
  ctx.d = await startDaemon(config(ctx.stack.unbound.port), FILES);
});

t.after(async ({ stack, d }) => {
  await d?.stop();
  await stack?.stop();
});

const CHAINS: [string, string, string][] = [
  ['cloak.example', 'A', 'cloak.example → www.facebook.com'],
  ['hop1.example', 'A', 'hop1.example → hop2.example → www.facebook.com'],
  ['www.d.example', 'A', 'www.d.example → d.example → facebook.com'],
  ['svc.example', 'HTTPS', 'svc.example → www.facebook.com'],
  ['alias.example', 'HTTPS', 'alias.example → www.facebook.com'],
  ['ig.example', 'AAAA', 'ig.example → www.instagram.com'],
];

t('a chain to a blocked name is blocked for a group that blocks it, fresh or cached, in either order', async ({ d }) => {
  for (const [i, [name, type]] of CHAINS.entries()) {
    // Half the names are first cached by the sixth form, half by a student.
    const order = i % 2 === 0 ? [SIXTH_FORM, STUDENT, SIXTH_FORM, STUDENT] : [STUDENT, SIXTH_FORM, STUDENT, SIXTH_FORM];
    for (const from of order) {
      const r = await ask(d, from, name, type);
      if (from === STUDENT) {
        assert.is(r.status, 'NXDOMAIN', `${name} ${type} for a student: ${r.text}`);
        assert.equal(r.answers, [], 'nothing of the chain leaks');
      } else {
        assert.is(r.status, 'NOERROR', `${name} ${type} for the sixth form`);
        assert.ok(r.answers.length > 0);
      }
    }
  }
});

t('each blocked attempt is recorded with its chain (logs blocked), category and list entry', async ({ d }) => {
  const rows = await until(
    async () => {
      const out = await cli(['--config', d.configFile, 'logs', 'blocked', '--json', '--since', '1h']);
      const all = JSON.parse(out.stdout || '[]') as Record<string, string>[];
      // Each chain was asked twice by the student; repeats are one row with a count (issue 25).
      const attempts = all.filter((r) => r.via).reduce((n, r) => n + Number(r.count), 0);
      return attempts >= CHAINS.length * 2 ? all : null;
    },
    5000,
    'blocked rows with via',
  );
  for (const [name, , via] of CHAINS) {
    const row = rows.find((r) => r.qname === name);
    assert.ok(row, name);
    assert.is(row!.via, via);
    assert.is(row!.client, STUDENT);
    assert.is(row!.category, name === 'ig.example' ? 'instagram' : 'facebook');
    assert.is(row!.entry, name === 'ig.example' ? 'instagram.com' : 'facebook.com');
  }
  const table = (await cli(['--config', d.configFile, 'logs', 'blocked', '--since', '1h'])).stdout;
  assert.match(table, /cloak\.example → www\.facebook\.com/);
});

t('an allowed chain resolves; a chain to an encrypted-DNS resolver is blocked for every group and signalled', async ({ d }) => {
  const ok = await ask(d, STUDENT, 'ok.example');
  assert.equal([ok.status, ok.answers.map((a) => a[3])], ['NOERROR', ['www.example.', '192.0.2.1']]);
  for (const from of [STUDENT, SIXTH_FORM]) assert.is((await ask(d, from, 'doh.example')).status, 'NXDOMAIN', from);
  const signals = await until(
    async () => {
      const out = await cli(['--config', d.configFile, 'logs', 'signals', '--json', '--since', '1h', '--kind', 'encrypted-dns']);
      const all = JSON.parse(out.stdout || '[]') as Record<string, string>[];
      return all.length >= 2 ? all : null;
    },
    5000,
    'encrypted-dns signals',
  );
  assert.ok(signals.every((s) => s.qname === 'doh.example'));
  assert.match(signals[0].detail, /via doh\.example → dns\.google/);
});

t('check explains a chain: it asks the upstreams as the daemon does, and says when it could not', async ({ d }) => {
  const check = (...args: string[]) => cli(['--config', d.configFile, 'check', ...args]);
  const student = await check('cloak.example', '--client', STUDENT);
  assert.is(student.code, 0, student.stderr);
  assert.match(student.stdout, /lists: +no category blocked for students lists it/);
  assert.match(student.stdout, /chain: +cloak\.example → www\.facebook\.com \(answer of 127\.0\.0\.1:\d+ now\)/);
  assert.match(student.stdout, /list: +facebook — entry "facebook\.com" at .*facebook\.txt:1/);
  assert.match(student.stdout, /answer: +blocked — NXDOMAIN/);
  const json = JSON.parse((await check('hop1.example', '--client', STUDENT, '--json')).stdout);
  assert.equal(
    [json.decision, json.via, json.category],
    ['blocked', 'hop1.example → hop2.example → www.facebook.com', 'facebook'],
  );
  const svc = JSON.parse((await check('svc.example', '--group', 'students', '--type', 'HTTPS', '--json')).stdout);
  assert.is(svc.via, 'svc.example → www.facebook.com');
  const sixth = JSON.parse((await check('cloak.example', '--client', SIXTH_FORM, '--json')).stdout);
  assert.equal([sixth.decision, sixth.chain.names], ['allowed', ['www.facebook.com']]);
  const plain = JSON.parse((await check('www.example', '--client', STUDENT, '--json')).stdout);
  assert.equal([plain.decision, plain.chain.names], ['allowed', []]);
  const offline = await check('cloak.example', '--client', STUDENT, '--no-resolve');
  assert.match(
    offline.stdout,
    /chain: +not looked up \(--no-resolve\): a CNAME in the live answer to a blocked name would still be blocked/,
  );
  assert.match(offline.stdout, /answer: +forwarded/);
});

t(
  'an exception for the platform opens its chains too, with TTLs ending with it; one for the alias alone does not',
  async ({ d }) => {
    const add = (...args: string[]) =>
      cli(['--config', d.configFile, 'exception', 'add', '--reason', 'test', '--approved-by', 'Head', ...args]);
    // A domain exception for the CNAME's own name does not open the blocked target behind it.
    assert.is((await add('--group', 'students', '--domain', 'cloak.example', '--for', '10m')).code, 0);
    await new Promise((r) => setTimeout(r, 1500));
    assert.is((await ask(d, STUDENT, 'cloak.example')).status, 'NXDOMAIN');
    assert.is((await add('--group', 'students', '--category', 'facebook', '--for', '2m')).code, 0);
    const opened = await until(
      async () => {
        const r = await ask(d, STUDENT, 'hop1.example');
        return r.status === 'NOERROR' ? r : null;
      },
      3000,
      'hop1.example opened by the exception',
    );
    assert.ok(
      opened.answers.every(([, ttl]) => ttl <= 120),
      `TTLs end with the exception: ${opened.answers.map((a) => a[1])}`,
    );
    assert.is((await ask(d, STUDENT, 'ig.example', 'AAAA')).status, 'NXDOMAIN', 'instagram is still blocked');
  },
);

t('blocking.cname_inspection: false lets chains through (the switch works)', async ({ stack }) => {
  const off = await startDaemon(config(stack.unbound.port, 'blocking: { cname_inspection: false }'), FILES);
  try {
    const r = await ask(off, STUDENT, 'cloak.example');
    assert.equal([r.status, r.answers.at(-1)?.[3]], ['NOERROR', '192.0.2.66']);
    assert.is((await ask(off, STUDENT, 'www.facebook.com')).status, 'NXDOMAIN', 'the name itself is still blocked');
  } finally {
    await off.stop();
  }
});

t.run();
