/**
 * End to end: two filters of different schools (node A: carres-grammar on 127.0.0.25, node B: kshs
 * on 127.0.0.26) sharing one real, throwaway PostgreSQL cluster for their accounts and sessions. An
 * account added at A signs in at B; a session made at A is valid at B and signing out at A ends it
 * at B; an ICT account scoped to kshs cannot add an exception at carres-grammar's filter (console
 * and CLI) but can at its own; with the store stopped sign-in answers 503 while both filters go on
 * answering DNS, and `user` commands fail clearly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RCODE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import { csrfOf, request, signIn } from '../helpers/console-client.js';
import { startDaemon, tempDir, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { udpQuery } from '../helpers/dns-client.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const PW = 'shared-account-pw-2026';
const STUDENT = { localAddress: '127.0.0.10' };
/** An exception for the students' group, as ICT types it (each use adds who is asking). */
const ADD_VIMEO = [
  'exception',
  'add',
  '--group',
  'students',
  '--domain',
  'vimeo.com',
  '--for',
  '20m',
  '--reason',
  'x',
  '--approved-by',
  'Head',
];

let pg: PgCluster;
let up: FakeUpstream;
let a: DaemonProcess;
let b: DaemonProcess;
let consoleA: string;
let consoleB: string;

function config(site: string, node: string, address: string, url: string): string {
  return testConfig({
    upstreams: [up.port],
    server: `  listen: ["${address}:0"]\n  allowed_clients: [127.0.0.10/32]`,
    extra:
      `site: ${site}\nnode: ${node}\nshared: { postgres: { url: "${url}", connect_timeout_ms: 1000, query_timeout_ms: 1000 } }\n` +
      `console: { enabled: true, listen: "${address}:0" }`,
  });
}

const consoleOf = (d: DaemonProcess) => String(d.logs.find((l) => l.msg === 'webfilter listening')!.console).replace(/\/$/, '');
const W = (d: DaemonProcess, args: string[], sudoUser = 'root', input?: string) =>
  cli(['--config', d.configFile, ...args], { SUDO_USER: sudoUser }, input);
/** A change made as a console account: its password, then (user add, passwd) the new one, on stdin. */
const AS = (d: DaemonProcess, account: string, args: string[], password = PW) =>
  W(d, [...args, '--account', account, '--password-stdin'], 'root', `${password}\n${PW}\n`);
const addUser = (d: DaemonProcess, name: string, ...more: string[]) => AS(d, 'ict.trust', ['user', 'add', name, ...more]);

async function rcode(d: DaemonProcess, name: string): Promise<number | null> {
  const host = d.addresses[0].split(':')[0];
  const r = await udpQuery(d.port, query(name), { ...STUDENT, host, timeoutMs: 2000 });
  return r ? header(r).rcode : null;
}

test.before(async () => {
  pg = await startPostgres();
  up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const url = await pg.createDatabase('accounts');
  a = await startDaemon(config('carres-grammar', 'dns-a', '127.0.0.25', url), LISTS);
  b = await startDaemon(config('kshs', 'dns-b', '127.0.0.26', url), LISTS);
  consoleA = consoleOf(a);
  consoleB = consoleOf(b);
  // The store's first ict account is made by root without --account; every later change names one.
  const first = await W(a, ['user', 'add', 'ict.trust', '--role', 'ict', '--trust', '--password-stdin'], 'root', `${PW}\n`);
  assert.is(first.code, 0, first.stderr);
});

test.after(async () => {
  await a?.stop();
  await b?.stop();
  await up?.close();
  await pg?.destroy();
});

test('user add at A: its scope (default this site, --sites, --trust) is seen by B’s user list; bad scopes are refused clearly', async () => {
  assert.is((await addUser(a, 'ict.cg', '--role', 'ict')).code, 0);
  const k = await addUser(a, 'ict.k', '--role', 'ict', '--sites', 'kshs');
  assert.is(k.code, 0, k.stderr);
  assert.match(k.stdout, /User ict\.k added with role ict, seeing site kshs\./);
  assert.is((await addUser(a, 'oso.trust', '--role', 'reviewer', '--trust')).code, 0);
  const list = await W(b, ['user', 'list', '--json']);
  assert.is(list.code, 0, list.stderr);
  assert.equal(
    (JSON.parse(list.stdout) as { name: string; scope: unknown }[]).map((u) => [u.name, u.scope]),
    [
      ['ict.cg', ['carres-grammar']],
      ['ict.k', ['kshs']],
      ['ict.trust', 'trust'],
      ['oso.trust', 'trust'],
    ],
  );
  assert.match((await W(b, ['user', 'list'])).stdout, /oso\.trust\s+reviewer\s+the whole trust/);
  const refusals: [string[], RegExp][] = [
    [['--role', 'ict', '--sites', 'kshs', '--trust'], /give --sites or --trust, not both/],
    [['--role', 'ict', '--sites', ''], /--sites names at least one site/],
    [['--role', 'ict', '--sites', 'Not A Site'], /"Not A Site" is not a site name/],
  ];
  const badRole = await addUser(a, 'someone', '--role', 'nope');
  assert.is(badRole.code, 2, 'a usage error');
  assert.match(badRole.stderr, /Invalid values:\s+Argument: role, Given: "nope", Choices: "reviewer", "ict"/);
  for (const [args, message] of refusals) {
    const r = await addUser(a, 'someone', ...args);
    assert.is(r.code, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
  const scoped = await AS(b, 'ict.trust', ['user', 'scope', 'ict.k', '--sites', 'kshs,carres-grammar']);
  assert.is(scoped.code, 0, scoped.stderr);
  assert.match(scoped.stdout, /ict\.k now sees sites carres-grammar, kshs/);
  assert.is((await AS(b, 'ict.trust', ['user', 'scope', 'ict.k', '--sites', 'kshs'])).code, 0);
  const audit = await pg.query<{ site: string; action: string; target: string; detail: string }>(
    "SELECT site, action, target, detail FROM access_audit WHERE action = 'user-scope' ORDER BY id",
    'accounts',
  );
  assert.equal(
    [...audit].map((r) => [r.site, r.target, r.detail]),
    [
      ['kshs', 'ict.k', 'sites carres-grammar, kshs'],
      ['kshs', 'ict.k', 'site kshs'],
    ],
  );
});

test('an account added at A signs in at B; a session made at A is valid at B; signing out at A ends it at B', async () => {
  const atB = await signIn(consoleB, 'ict.cg', PW);
  assert.ok(atB.cookie, `${atB.response.status} ${atB.response.body.slice(0, 200)}`);
  const atA = await signIn(consoleA, 'oso.trust', PW);
  assert.ok(atA.cookie);
  const onB = await request(consoleB, '/', { cookie: atA.cookie });
  assert.is(onB.status, 200, 'A’s cookie at B');
  assert.match(onB.body, /oso\.trust/);
  const out = await request(consoleA, '/logout', { cookie: atA.cookie, form: { _csrf: atA.csrf } });
  assert.is(out.status, 303);
  const after = await request(consoleB, '/', { cookie: atA.cookie });
  assert.equal([after.status, after.headers.location], [303, '/login?next=%2F'], 'signed out at A: not signed in at B');
  const stored = await pg.query<{ n: string }>('SELECT count(*) AS n FROM console_sessions', 'accounts');
  assert.is(Number(stored[0].n), 1, 'only B’s sign-in is left');
});

test('failed sign-ins at A’s console count at B’s: one throttle for the trust, not one per console', async () => {
  const from = { localAddress: '127.0.0.41' };
  for (let i = 0; i < 5; i++) {
    const r = await signIn(consoleA, 'ict.cg', `wrong-password-${i}`, from);
    assert.is(r.response.status, 401, `A: failure ${i + 1} costs nothing`);
  }
  // B's console never saw these tries; the trust's count did. The wait after the 5th is 1 s, then 2 s,
  // 4 s, each counted try doubling it: within B's first three tries one is held (each console alone
  // would give five free tries).
  let held = null;
  for (let i = 0; i < 3 && !held; i++) {
    const r = await signIn(consoleB, 'ict.cg', `wrong-at-b-${i}`, from);
    if (r.response.status === 429) held = r.response;
    else assert.is(r.response.status, 401);
  }
  assert.ok(held, 'held at B');
  assert.match(held.body, /Too many failed sign-ins for this account from this address\. Try again in \d+ seconds?\./);
  const [row] = await pg.query<{ failures: number }>(
    "SELECT failures FROM sign_in_failures WHERE key = 'u:ict.cg@127.0.0.41'",
    'accounts',
  );
  assert.ok(row.failures >= 5, `one count in PostgreSQL: ${row.failures}`);
  assert.ok((await signIn(consoleB, 'ict.cg', PW)).cookie, 'the same account from another address is not held up');
});

test('an ICT account scoped to kshs cannot add an exception at carres-grammar’s filter (console, CLI), and can at its own', async () => {
  const form = (csrf: string, domain: string) => ({
    _csrf: csrf,
    group: 'students',
    domain,
    for: '20m',
    reason: 'Assembly',
    approved_by: 'Head',
  });
  const k = await signIn(consoleA, 'ict.k', PW);
  assert.ok(k.cookie);
  const page = await request(consoleA, '/exceptions', { cookie: k.cookie });
  const refused = await request(consoleA, '/exceptions', { cookie: k.cookie, form: form(csrfOf(page.body), 'youtube.com') });
  assert.is(refused.status, 403, refused.body.slice(0, 300));
  assert.match(
    refused.body,
    /ict\.k&#39;s account sees site kshs, not carres-grammar|ict\.k's account sees site kshs, not carres-grammar/,
  );
  const cliRefused = await W(a, [...ADD_VIMEO, '--account', 'ict.k', '--password-stdin'], 'root', `${PW}\n`);
  assert.is(cliRefused.code, 1);
  assert.match(cliRefused.stderr, /ict\.k's account sees site kshs, not carres-grammar/);
  assert.equal([...(await pg.query('SELECT 1 FROM exceptions', 'accounts'))].length, 0, 'nothing added at carres-grammar');
  // Each refusal (the page, the form, the CLI) is in the access audit (security finding 5): who, from where, what, why.
  const denied = await pg.query<{ actor: string; ip: string; target: string; detail: string }>(
    "SELECT actor, ip, target, detail FROM access_audit WHERE action = 'access-denied' ORDER BY id",
    'accounts',
  );
  assert.equal(
    [...denied].map((r) => [r.actor.split(' ')[0], r.ip === 'cli' ? 'cli' : 'console', r.target]),
    [
      ['ict.k', 'console', 'GET /exceptions'],
      ['ict.k', 'console', 'POST /exceptions'],
      ['ict.k', 'cli', 'exception add'],
    ],
  );
  assert.ok([...denied].every((r) => /ict\.k's account sees site kshs, not carres-grammar/.test(r.detail)));
  const own = await signIn(consoleB, 'ict.k', PW);
  const ownPage = await request(consoleB, '/exceptions', { cookie: own.cookie });
  const ok = await request(consoleB, '/exceptions', { cookie: own.cookie, form: form(csrfOf(ownPage.body), 'youtube.com') });
  assert.is(ok.status, 303, ok.body.slice(0, 300));
  const byCli = await W(b, [...ADD_VIMEO, '--account', 'ict.k', '--password-stdin'], 'root', `${PW}\n`);
  assert.is(byCli.code, 0, byCli.stderr);
  assert.match(byCli.stdout, /recorded as ict\.k \(cli, root\)/);
  const rows = await pg.query<{ site: string }>('SELECT site FROM exceptions ORDER BY id', 'accounts');
  assert.equal(
    [...rows].map((r) => r.site),
    ['kshs', 'kshs'],
  );
});

test('with shared, account changes need an ict --account with its password; a site-scoped one stays within its sites', async () => {
  const must = (r: { code: number | null; stderr: string }, message: RegExp, what: string) => {
    assert.is(r.code, 1, `${what}: refused`);
    assert.match(r.stderr, message, what);
  };
  // Without --account, even root (the store has ict accounts now).
  must(
    await W(a, ['user', 'add', 'no.account', '--role', 'reviewer', '--password-stdin'], 'root', `${PW}\n`),
    /give --account NAME, an ict account, and its password/,
    'user add as root without --account',
  );
  for (const args of [
    ['user', 'disable', 'oso.trust'],
    ['user', 'scope', 'ict.k', '--trust'],
  ])
    must(await W(a, args, 'root'), /give --account NAME/, `${args.join(' ')} without --account`);
  must(
    await AS(a, 'ict.trust', ['user', 'disable', 'oso.trust'], 'wrong'),
    /--account ict\.trust: wrong account name or password/,
    'wrong password',
  );
  must(
    await AS(a, 'oso.trust', ['user', 'disable', 'ict.cg']),
    /the role reviewer may not do this; it needs an ict account/,
    'a reviewer',
  );
  // ict.k sees kshs only.
  const beyond = /--account ict\.k sees site kshs; \S+ sees .*, beyond it: nothing was changed/;
  must(
    await AS(b, 'ict.k', ['user', 'scope', 'ict.k', '--trust']),
    /--account ict\.k sees site kshs and cannot give the whole trust: nothing was changed/,
    'ict.k widening itself',
  );
  must(await AS(b, 'ict.k', ['user', 'passwd', 'oso.trust']), beyond, 'passwd of a trust-wide account');
  must(await AS(b, 'ict.k', ['user', 'disable', 'ict.cg']), beyond, 'disable a carres-grammar account');
  must(
    await AS(b, 'ict.k', ['user', 'add', 'wide.one', '--role', 'reviewer', '--sites', 'kshs,carres-grammar']),
    /--account ict\.k sees site kshs and cannot give sites carres-grammar, kshs: nothing was changed/,
    'add with a wider scope',
  );
  must(
    await AS(a, 'ict.k', ['user', 'add', 'cg.one', '--role', 'reviewer']),
    /cannot give site carres-grammar/,
    'add at A (its default scope is A’s site)',
  );
  const own = await AS(b, 'ict.k', ['user', 'add', 'oso.k', '--role', 'reviewer']);
  assert.is(own.code, 0, own.stderr);
  const pw = await AS(b, 'ict.k', ['user', 'passwd', 'oso.k']);
  assert.is(pw.code, 0, pw.stderr);
  assert.ok((await signIn(consoleB, 'oso.k', PW)).cookie, 'the new password (stdin’s second line) signs in');
  const users = JSON.parse((await W(a, ['user', 'list', '--json'])).stdout) as {
    name: string;
    scope: unknown;
    disabled_at: unknown;
  }[];
  assert.equal(
    users
      .filter((u) => ['ict.k', 'oso.trust', 'ict.cg', 'wide.one', 'cg.one', 'no.account'].includes(u.name))
      .map((u) => [u.name, u.scope, u.disabled_at]),
    [
      ['ict.cg', ['carres-grammar'], null],
      ['ict.k', ['kshs'], null],
      ['oso.trust', 'trust', null],
    ],
    'nothing refused was changed',
  );
  // A trust-wide ict may do anything; the audit names the account.
  const wide = await AS(a, 'ict.trust', ['user', 'scope', 'oso.k', '--sites', 'kshs,carres-grammar']);
  assert.is(wide.code, 0, wide.stderr);
  const audit = await pg.query<{ actor: string }>(
    "SELECT actor FROM access_audit WHERE action = 'user-scope' AND target = 'oso.k'",
    'accounts',
  );
  assert.equal(
    [...audit].map((r) => r.actor),
    ['ict.trust'],
  );
  // Each refusal is an access-denied row: who ran it (root here), the command, why.
  const denied = await pg.query<{ actor: string; ip: string; target: string; detail: string }>(
    "SELECT actor, ip, target, detail FROM access_audit WHERE action = 'access-denied' AND target LIKE 'user %' ORDER BY id",
    'accounts',
  );
  const seen = [...denied].map((r) => [r.actor, r.ip, r.target, r.detail]);
  for (const want of [
    ['root', 'cli', 'user add no.account', 'no --account (an ict account is needed)'],
    ['root', 'cli', 'user disable oso.trust', 'no --account (an ict account is needed)'],
    ['root', 'cli', 'user scope ict.k', 'no --account (an ict account is needed)'],
    ['root', 'cli', 'user disable oso.trust', '--account ict.trust: wrong password'],
    ['root', 'cli', 'user disable ict.cg', '--account oso.trust: the role reviewer may not do this; it needs an ict account'],
    ['ict.k', 'cli', 'user scope ict.k', '--account ict.k sees site kshs and cannot give the whole trust: nothing was changed'],
  ])
    assert.ok(
      seen.some((r) => r.join('|') === want.join('|')),
      `${want.join(' | ')} in\n${seen.map((r) => r.join(' | ')).join('\n')}`,
    );
});

test('with shared, root’s CLI acts for its filter’s own site; SUDO_USER is never looked up as an account', async () => {
  const add = (d: DaemonProcess, sudoUser: string, domain: string) =>
    W(
      d,
      ['exception', 'add', '--group', 'students', '--domain', domain, '--for', '20m', '--reason', 'x', '--approved-by', 'Head'],
      sudoUser,
    );
  // ict.k's scope (kshs) does not stop root at carres-grammar's filter: root acts for that site.
  const r = await add(a, 'ict.k', 'dailymotion.com');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /recorded as ict\.k\n/);
  const rows = await pg.query<{ site: string }>("SELECT site FROM exceptions WHERE domains ? 'dailymotion.com'", 'accounts');
  assert.equal(
    [...rows].map((x) => x.site),
    ['carres-grammar'],
  );
});

test('the access audit: an account sees only the rows about its sites, at either console and in logs audit', async () => {
  // Each user add is an audit row about the site of the filter it was made at.
  assert.is((await addUser(a, 'made.at.cg', '--role', 'reviewer', '--sites', 'carres-grammar')).code, 0);
  assert.is((await addUser(b, 'made.at.k', '--role', 'reviewer')).code, 0);
  assert.is((await addUser(a, 'ict.all', '--role', 'ict', '--trust')).code, 0);
  const seen = async (base: string, name: string) => {
    const s = await signIn(base, name, PW);
    assert.ok(s.cookie, `${name} signs in`);
    const page = await request(base, '/audit?since=30d&action=user-add', { cookie: s.cookie });
    assert.is(page.status, 200, page.body.slice(0, 300));
    return ['made.at.cg', 'made.at.k'].filter((n) => page.body.includes(n));
  };
  for (const base of [consoleA, consoleB]) {
    assert.equal(await seen(base, 'ict.k'), ['made.at.k'], `kshs-scoped at ${base}`);
    assert.equal(await seen(base, 'ict.cg'), ['made.at.cg'], `carres-grammar-scoped at ${base}`);
    assert.equal(await seen(base, 'ict.all'), ['made.at.cg', 'made.at.k'], `trust-wide at ${base}`);
  }
  const cliAudit = await W(a, ['logs', 'audit', '--since', '30d', '--action', 'user-add']);
  assert.is(cliAudit.code, 0, cliAudit.stderr);
  assert.match(cliAudit.stdout, /made\.at\.cg/);
  assert.not.match(cliAudit.stdout, /made\.at\.k/, 'the CLI reads this filter’s site only');
});

test('the store stopped: sign-in answers 503 saying DNS is unaffected, both filters answer DNS, user commands fail clearly', async () => {
  await pg.stop();
  try {
    const form = await request(consoleA, '/login');
    assert.is(form.status, 200, 'the sign-in form needs no store');
    const r = await signIn(consoleA, 'ict.cg', PW);
    assert.is(r.response.status, 503);
    assert.match(r.response.body, /The trust's shared store is unreachable/);
    assert.match(r.response.body, /DNS filtering is unaffected/);
    // For anyone who reaches the console: nothing of the store's address or the driver's error.
    assert.not.match(r.response.body, /postgres@|127\.0\.0\.1:\d|ECONNREFUSED|unreachable \(/);
    assert.is(await rcode(a, 'www.example.org'), RCODE.NOERROR);
    assert.is(await rcode(b, 'www.example.org'), RCODE.NOERROR);
    assert.is(await rcode(a, 'www.facebook.com'), RCODE.NXDOMAIN, 'and enforcing');
    for (const args of [
      ['user', 'add', 'new.one', '--role', 'reviewer', '--password-stdin'],
      ['user', 'list'],
    ]) {
      const res = await W(a, args, 'root', `${PW}\n`);
      assert.is(res.code, 1, args.join(' '));
      assert.match(res.stderr, /PostgreSQL at postgres@127\.0\.0\.1:\d+\/accounts is unreachable/);
      assert.match(res.stderr, /console accounts of every filter are kept in the trust's shared store/);
    }
    // An --account cannot be checked now: refused, never skipped (root's exception add --local is the way).
    const change = await AS(a, 'ict.cg', [...ADD_VIMEO]);
    assert.is(change.code, 1, change.stdout);
    assert.match(change.stderr, /--account ict\.cg cannot be checked while the shared store is unreachable: nothing was changed/);
  } finally {
    await pg.start();
  }
  const back = await signIn(consoleA, 'ict.cg', PW);
  assert.ok(back.cookie, 'signs in again once the store is back');
});

test('a filter that shares no store: --sites and --trust are refused, saying why', async () => {
  const dir = tempDir(LISTS);
  const file = path.join(dir, 'c.yaml');
  writeFileSync(file, testConfig({ upstreams: [53] }));
  for (const flag of [['--sites', 'kshs'], ['--trust']]) {
    const r = await cli(
      ['--config', file, 'user', 'add', 'x.y', '--role', 'reviewer', ...flag, '--password-stdin'],
      {},
      `${PW}\n`,
    );
    assert.is(r.code, 1);
    assert.match(r.stderr, new RegExp(`${flag[0]}: this filter shares no store \\(no shared: in the config\\)`));
  }
  const scope = await cli(['--config', file, 'user', 'scope', 'x.y', '--trust']);
  assert.is(scope.code, 1);
});

test.run();
