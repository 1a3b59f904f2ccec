/** End-to-end: the CLI against a running daemon — exceptions that open and close by themselves, check, refusals. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import path from 'node:path';
import { RCODE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { cli } from '../helpers/cli.js';

const STUDENT = { localAddress: '127.0.0.10' };
const FILES = { ...LISTS, 'illegal.txt': '# filled from the IWF list\nillegal.example\n' };
const CATEGORIES =
  '  facebook: [facebook.txt]\n  instagram: [instagram.txt]\n  illegal-content: { lists: [illegal.txt], locked: true }';
const GROUPS =
  '  students: { clients: [127.0.0.10/32], block: [facebook, instagram, illegal-content] }\n  sixth-form: { clients: [127.0.0.20/32], block: [illegal-content] }\n  default: { block: [facebook, illegal-content] }';

async function rcode(d: DaemonProcess, name: string, client = STUDENT): Promise<number> {
  return header((await udpQuery(d.port, query(name), client))!).rcode;
}

/** Polls until the daemon answers `name` with `want` (or gives up after `ms`); returns how long it took. */
async function until(d: DaemonProcess, name: string, want: number, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if ((await rcode(d, name)) === want) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not become rcode ${want} within ${ms} ms`);
}

test('an exception opens instagram for a group within a second, and it closes by itself at expiry', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 3600)] }));
  const d = await startDaemon(testConfig({ upstreams: [up.port], categories: CATEGORIES, groups: GROUPS }), FILES);
  const W = (...args: string[]) => cli(['--config', d.configFile, ...args], { SUDO_USER: 'ict-tech' });
  try {
    assert.is(await rcode(d, 'www.instagram.com'), RCODE.NXDOMAIN);
    const add = await W(
      'exception',
      'add',
      '--group',
      'students',
      '--category',
      'instagram',
      '--for',
      '2s',
      '--reason',
      'Y9 media project',
      '--approved-by',
      'Mrs Patel (Headteacher)',
    );
    assert.is(add.code, 0, add.stderr);
    assert.match(add.stdout, /^Exception 1 added: instagram for group students\n {2}until .* \(2s from now\)/);
    const opened = await until(d, 'www.instagram.com', RCODE.NOERROR, 1500);
    assert.ok(opened < 1200, `opened after ${opened} ms`);
    const r = (await udpQuery(d.port, query('cdn.instagram.com'), STUDENT))!;
    const ttl = r.readUInt32BE(r.length - 10);
    assert.ok(ttl <= 2, `TTL ${ttl} is capped at the exception's remaining time, not the upstream's 3600`);
    assert.is(await rcode(d, 'www.facebook.com'), RCODE.NXDOMAIN, 'only instagram was opened');
    assert.is(
      await rcode(d, 'www.instagram.com', { localAddress: '127.0.0.30' }),
      RCODE.NOERROR,
      'default group does not block instagram anyway',
    );
    await until(d, 'www.instagram.com', RCODE.NXDOMAIN, 3000);

    // Revoke works likewise.
    const add2 = await W(
      'exception',
      'add',
      '--group',
      'students',
      '--domain',
      'instagram.com',
      '--for',
      '10m',
      '--reason',
      'Assembly',
      '--approved-by',
      'Mr Jones (DHT)',
      '--json',
    );
    const id = JSON.parse(add2.stdout).id;
    assert.is(id, 2);
    await until(d, 'www.instagram.com', RCODE.NOERROR, 1500);
    const list = await W('exception', 'list');
    assert.match(list.stdout, /2\s+students\s+instagram\.com\s+\S+ \S+\s+9m|10m/);
    const revoke = await W('exception', 'revoke', String(id), '--reason', 'Assembly cancelled');
    assert.is(revoke.code, 0, revoke.stderr);
    await until(d, 'www.instagram.com', RCODE.NXDOMAIN, 1500);

    const all = JSON.parse((await W('exception', 'list', '--all', '--json')).stdout) as Record<string, unknown>[];
    assert.equal(
      all.map((e) => [e.id, e.state, e.created_by, e.approved_by, e.reason, e.revoked_by, e.revoke_reason]),
      [
        [2, 'revoked', 'ict-tech', 'Mr Jones (DHT)', 'Assembly', 'ict-tech', 'Assembly cancelled'],
        [1, 'expired', 'ict-tech', 'Mrs Patel (Headteacher)', 'Y9 media project', null, null],
      ],
    );
    assert.ok(all.every((e) => typeof e.created_at === 'string' && typeof e.expires_at === 'string'));
    const db = new Database(path.join(d.dir, 'webfilter.db'), { readonly: true });
    assert.equal(
      (db.prepare('SELECT exception_id, action, actor FROM exception_audit ORDER BY id').all() as Record<string, unknown>[]).map(
        (r) => Object.values(r),
      ),
      [
        [1, 'added', 'ict-tech'],
        [2, 'added', 'ict-tech'],
        [2, 'revoked', 'ict-tech'],
      ],
    );
    db.close();
  } finally {
    await d.stop();
    await up.close();
  }
  // The daemon recorded the excepted queries as such in the access log and not as blocked attempts.
  const db = new Database(path.join(d.dir, 'webfilter.db'), { readonly: true });
  // Attempts, not rows: repeats of one name are one row with a count (issue 25).
  const blockedInsta = (db.prepare("SELECT sum(count) AS n FROM blocked WHERE category = 'instagram'").get() as { n: number }).n;
  const accessInsta = (
    db.prepare("SELECT sum(count) AS n FROM v_access_hourly WHERE domain = 'instagram.com' AND client = '127.0.0.10'").get() as {
      n: number;
    }
  ).n;
  assert.ok(blockedInsta >= 3 && accessInsta >= 3, `${blockedInsta} blocked, ${accessInsta} allowed`);
  db.close();
});

test('refused exceptions name the problem and write nothing', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const d = await startDaemon(
    testConfig({
      upstreams: [up.port],
      categories: CATEGORIES,
      groups: GROUPS,
      extra: 'circumvention:\n  encrypted_dns: { lists: [doh.txt] }',
    }),
    { ...FILES, 'doh.txt': '# DoH resolvers\ncloudflare-dns.com\ndns.google\n' },
  );
  const W = (...args: string[]) => cli(['--config', d.configFile, 'exception', 'add', ...args]);
  try {
    const base = ['--reason', 'r', '--approved-by', 'Head'];
    const cases: [string[], number, RegExp][] = [
      [
        ['--group', 'students', '--category', 'instagram', '--for', '1h', '--reason', 'r'],
        2,
        /Missing required argument: approved-by/,
      ],
      [
        ['--group', 'students', '--category', 'instagram', '--for', '1h', '--reason', 'r', '--approved-by', '  '],
        1,
        /--approved-by is required/,
      ],
      [
        ['--group', 'students', '--category', 'instagram', '--until', '2020-01-01T10:00', ...base],
        1,
        /--until 2020-01-01T10:00 is in the past/,
      ],
      [
        ['--group', 'students', '--category', 'illegal-content', '--for', '1h', ...base],
        1,
        /--category "illegal-content" is locked in the config: no exception may open it/,
      ],
      [['--group', 'students', '--category', 'encrypted-dns', '--for', '1h', ...base], 1, /circumvention rule/],
      [
        ['--group', 'studnts', '--category', 'instagram', '--for', '1h', ...base],
        1,
        /--group "studnts": no such group \(groups: students, sixth-form, default\)/,
      ],
      [
        ['--group', 'students', '--category', 'instagrm', '--for', '1h', ...base],
        1,
        /--category "instagrm": no such category \(categories: facebook, instagram\)/,
      ],
      [
        ['--group', 'students', '--category', 'instagram', '--for', '31d', ...base],
        1,
        /longer than exceptions.max_duration \(30d\)/,
      ],
      [['--group', 'students', '--category', 'instagram', '--for', 'soon', ...base], 1, /"soon" is not a duration/],
      [
        ['--client', '10.0.0.0/33', '--category', 'instagram', '--for', '1h', ...base],
        1,
        /--client: "10.0.0.0\/33" is not a CIDR/,
      ],
      [['--category', 'instagram', '--for', '1h', ...base], 1, /give exactly one of --group G or --client/],
      // A domain a locked category or circumvention rule lists: the exception would do nothing.
      [
        ['--group', 'students', '--domain', 'dns.google', '--for', '1h', ...base],
        1,
        /--domain "dns.google" is blocked by the circumvention rule encrypted-dns \(entry "dns.google", \S+doh.txt:3\): no exception may open it/,
      ],
      [
        ['--client', '127.0.0.10', '--domain', 'A.Illegal.Example.', '--for', '1h', ...base],
        1,
        /--domain "A.Illegal.Example." is blocked by the locked category illegal-content \(entry "illegal.example", \S+illegal.txt:2\)/,
      ],
      [
        ['--group', 'students', '--domain', 'use-application-dns.net', '--for', '1h', ...base],
        1,
        /the circumvention rule doh-canary \(entry "use-application-dns.net", built in\)/,
      ],
    ];
    for (const [args, code, message] of cases) {
      const r = await W(...args);
      assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const list = await cli(['--config', d.configFile, 'exception', 'list', '--all', '--json']);
    assert.equal(JSON.parse(list.stdout), [], 'nothing was written');
    assert.is(
      await rcode(d, 'x.illegal.example', { localAddress: '127.0.0.20' }),
      RCODE.NXDOMAIN,
      'locked category blocked for sixth form too',
    );
  } finally {
    await d.stop();
    await up.close();
  }
});

test('check explains a blocked, an excepted and an allowed name, and agrees with the daemon', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const d = await startDaemon(testConfig({ upstreams: [up.port], categories: CATEGORIES, groups: GROUPS }), FILES);
  const W = (...args: string[]) => cli(['--config', d.configFile, ...args]);
  try {
    await W(
      'exception',
      'add',
      '--client',
      '127.0.0.10',
      '--category',
      'instagram',
      '--for',
      '1h',
      '--reason',
      'Project',
      '--approved-by',
      'Head',
    );
    await new Promise((r) => setTimeout(r, 600));
    const cases: [string, string, number][] = [
      ['www.facebook.com', 'blocked', RCODE.NXDOMAIN],
      ['www.instagram.com', 'exception', RCODE.NOERROR],
      ['www.bbc.co.uk', 'allowed', RCODE.NOERROR],
      ['dns.google', 'allowed', RCODE.NOERROR],
    ];
    for (const [name, decision, daemonRcode] of cases) {
      const j = JSON.parse((await W('check', name, '--client', '127.0.0.10', '--json')).stdout);
      assert.is(j.decision, decision, name);
      assert.is(j.group, 'students');
      assert.is(await rcode(d, name), daemonRcode, `daemon agrees for ${name}`);
    }
    const text = (await W('check', 'www.facebook.com', '--client', '127.0.0.10')).stdout;
    assert.match(text, /www\.facebook\.com for client 127\.0\.0\.10 \(group students\)/);
    assert.match(text, /list: +facebook — entry "facebook\.com" at .*facebook\.txt:2/);
    assert.match(text, /answer: +blocked — NXDOMAIN/);
    const ex = (await W('check', 'www.instagram.com', '--client', '127.0.0.10')).stdout;
    assert.match(ex, /exception: 1 — instagram for client 127\.0\.0\.10\/32, approved by Head/);
    const other = JSON.parse((await W('check', 'www.instagram.com', '--group', 'students', '--json')).stdout);
    assert.is(other.decision, 'blocked', 'the exception is for one client, not the whole group');
    const refused = JSON.parse((await W('check', 'a.example', '--client', '127.0.0.99', '--json')).stdout);
    assert.is(refused.decision, 'refused');
    const bad = await W('check', 'a.example', '--group', 'nobody');
    assert.is(bad.code, 1, 'the config has no such group: an error, as exception add says it');
    assert.match(bad.stderr, /--group "nobody": no such group/);
  } finally {
    await d.stop();
    await up.close();
  }
});

test.run();
