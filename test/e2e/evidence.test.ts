/** End-to-end: what the real daemon records in its SQLite evidence store. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import path from 'node:path';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { until } from '../helpers/wait.js';

const STUDENT = { localAddress: '127.0.0.10' };
const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });

const EVIDENCE_LISTS = {
  ...LISTS,
  'doh.txt': 'dns.google\ncloudflare-dns.com\n',
  'vpn.txt': 'nordvpn.com\n',
  leases: '1900000000 aa:bb:cc:dd:ee:ff 127.0.0.10 student-laptop-7 01:aa:bb:cc:dd:ee:ff\n',
};

function evidenceConfig(upPort: number, extra = '', database = ''): string {
  return testConfig({
    upstreams: [upPort],
    database,
    extra: `circumvention:
  encrypted_dns: { lists: [doh.txt] }
  vpn_proxy: { lists: [vpn.txt] }
  persistent_attempts: { threshold: 10, window_minutes: 5 }
clients:
  names: { "aa:bb:cc:dd:ee:ff": Y9-LT-07, "127.0.0.20": sixth-form-pc }
  leases: { file: leases, format: dnsmasq }
${extra}`,
  });
}

function openDb(d: DaemonProcess) {
  return new Database(path.join(d.dir, 'webfilter.db'), { readonly: true });
}

async function ask(d: DaemonProcess, name: string, type: number = TYPE.A, client = STUDENT) {
  const r = await udpQuery(d.port, query(name, type), client);
  assert.ok(r, `no answer for ${name}`);
  return header(r!);
}

test('each kind of evidence produces exactly the expected rows', async () => {
  const up: FakeUpstream = await startFakeUpstream(answer);
  const d = await startDaemon(evidenceConfig(up.port), EVIDENCE_LISTS);
  try {
    assert.is((await ask(d, 'www.facebook.com')).rcode, RCODE.NXDOMAIN);
    assert.is((await ask(d, 'use-application-dns.net')).rcode, RCODE.NXDOMAIN);
    assert.is((await ask(d, 'mask.icloud.com', TYPE.HTTPS)).rcode, RCODE.NXDOMAIN);
    assert.is((await ask(d, 'mask-h2.icloud.com')).rcode, RCODE.NXDOMAIN);
    const ddr = await ask(d, '_dns.resolver.arpa', TYPE.SVCB);
    assert.equal([ddr.rcode, ddr.ancount], [RCODE.NOERROR, 0]);
    assert.is((await ask(d, 'dns.google')).rcode, RCODE.NXDOMAIN);
    assert.is((await ask(d, 'dns.google', TYPE.AAAA)).rcode, RCODE.NXDOMAIN);
    assert.is(
      (await ask(d, 'mozilla.cloudflare-dns.com', TYPE.AAAA, { localAddress: '127.0.0.20' })).rcode,
      RCODE.NXDOMAIN,
      'circumvention lists apply to every group',
    );
    assert.is((await ask(d, 'api.nordvpn.com')).rcode, RCODE.NXDOMAIN);
    // A DNS tunnel: many unique, long, random names under one domain, by TXT.
    for (let i = 0; i < 40; i++) {
      const chunk = Buffer.from(`secret-data-${i}-${'x'.repeat(20)}`)
        .toString('hex')
        .slice(0, 60);
      await ask(d, `${chunk}.${i}.t.tunnel-example.net`, TYPE.TXT);
    }
    // Repeated attempts: 12 blocked instagram lookups (threshold 10).
    for (let i = 0; i < 12; i++) await ask(d, `i${i}.cdninstagram.com`);
    // Ordinary browsing by the sixth form (not blocked) lands in the access log.
    for (const name of ['www.bbc.co.uk', 'static.files.bbci.co.uk', 'www.bbc.co.uk', 'en.wikipedia.org']) {
      await ask(d, name, TYPE.A, { localAddress: '127.0.0.20' });
    }
  } finally {
    assert.is((await d.stop()).code, 0);
    await up.close();
  }
  const db = openDb(d);
  const blocked = db
    .prepare('SELECT client, device, grp, qname, qtype, category, entry, response, transport FROM blocked ORDER BY id')
    .all() as Record<string, string>[];
  assert.equal(
    blocked.slice(0, 6).map((b) => `${b.qname} ${b.qtype} ${b.category} ${b.entry} ${b.response}`),
    [
      'www.facebook.com A facebook facebook.com NXDOMAIN',
      'dns.google A encrypted-dns dns.google NXDOMAIN',
      'dns.google AAAA encrypted-dns dns.google NXDOMAIN',
      'mozilla.cloudflare-dns.com AAAA encrypted-dns cloudflare-dns.com NXDOMAIN',
      'api.nordvpn.com A vpn-proxy nordvpn.com NXDOMAIN',
      'i0.cdninstagram.com A instagram cdninstagram.com NXDOMAIN',
    ],
  );
  assert.is(blocked.length, 6 + 11, 'canary, relay and DDR are signals only, not blocked rows');
  assert.equal(
    [blocked[0].client, blocked[0].device, blocked[0].grp, blocked[0].transport],
    ['127.0.0.10', 'Y9-LT-07', 'students', 'udp'],
  );
  assert.is(blocked[3].device, 'sixth-form-pc');

  const signals = db
    .prepare('SELECT client, device, grp, kind, severity, domain, count, qname FROM signals ORDER BY id')
    .all() as Record<string, string | number>[];
  const summary = signals.map((s) => `${s.kind} ${s.domain} ${s.count} ${s.severity}`);
  assert.equal(summary, [
    'doh-canary use-application-dns.net 1 low',
    'private-relay icloud.com 2 medium',
    'ddr resolver.arpa 1 low',
    'encrypted-dns dns.google 2 high',
    'encrypted-dns cloudflare-dns.com 1 high',
    'vpn-proxy nordvpn.com 1 high',
    'tunnel tunnel-example.net 40 high',
    'persistent-attempts instagram 10 medium',
  ]);
  assert.is(signals[4].client, '127.0.0.20');
  assert.is(signals[0].device, 'Y9-LT-07');

  const access = db.prepare('SELECT * FROM v_access_hourly ORDER BY domain').all() as Record<string, string | number>[];
  const sixth = access.filter((a) => a.client === '127.0.0.20');
  assert.equal(
    sixth.map((a) => `${a.domain} ${a.count} ${a.device} ${a.group}`),
    ['bbc.co.uk 2', 'bbci.co.uk 1', 'wikipedia.org 1'].map((s) => `${s} sixth-form-pc sixth-form`),
  );
  const heartbeat = db.prepare('SELECT pid, version FROM daemon').get() as { pid: number; version: string };
  assert.is(heartbeat.pid, d.child.pid);
  db.close();
});

test('normal CDN-heavy browsing produces no tunnel signal', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(evidenceConfig(up.port), EVIDENCE_LISTS);
  const names: [string, number][] = [];
  for (let i = 0; i < 60; i++) {
    const hex = (n: number) => (n * 2654435761 + i * 40503).toString(16).padStart(8, '0').slice(0, 8);
    names.push([`rr${i % 8}---sn-${hex(i)}-aigl${i % 10}.googlevideo.com`, TYPE.A]);
    names.push([`${hex(i)}${hex(i + 1)}${hex(i + 2)}${hex(i + 3)}.safeframe.googlesyndication.com`, TYPE.A]);
    names.push([`scontent-lhr${i % 9}-${i % 3}.xx.fbcdn.net`.replace('fbcdn', 'fbcdn2'), TYPE.A]);
    names.push([`d${hex(i)}${i}.cloudfront.net`, TYPE.AAAA]);
    names.push([`e${1000 + i}.dscb.akamaiedge.net`, TYPE.A]);
    names.push([`a${i}.example-cdn-${i % 4}.s3.amazonaws.com`, TYPE.HTTPS]);
    names.push([`_spf.${i % 5}.mail.example.org`, TYPE.TXT]);
  }
  try {
    for (const [n, t] of names) await ask(d, n, t, { localAddress: '127.0.0.20' });
  } finally {
    await d.stop();
    await up.close();
  }
  const db = openDb(d);
  assert.is((db.prepare("SELECT count(*) AS n FROM signals WHERE kind = 'tunnel'").get() as { n: number }).n, 0);
  assert.ok((db.prepare('SELECT sum(count) AS n FROM access_hourly').get() as { n: number }).n >= names.length);
  db.close();
});

test('SIGTERM right after 5,000 blocked queries: all 5,000 attempts are in the database', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(evidenceConfig(up.port), EVIDENCE_LISTS);
  const total = 5000;
  for (let i = 0; i < total; i += 100) {
    const batch = Array.from({ length: 100 }, (_, k) => udpQuery(d.port, query(`n${i + k}.facebook.com`), STUDENT));
    for (const r of await Promise.all(batch)) assert.is(header(r!).rcode, RCODE.NXDOMAIN);
  }
  const { code } = await d.stop();
  assert.is(code, 0);
  await up.close();
  const db = openDb(d);
  assert.is((db.prepare("SELECT count(*) AS n FROM blocked WHERE category = 'facebook'").get() as { n: number }).n, total);
  db.close();
});

test('an unwritable database: DNS answers continue, drops are counted, writing resumes', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(evidenceConfig(up.port, '', 'queue_size: 50, batch_rows: 10, flush_ms: 20'), EVIDENCE_LISTS);
  try {
    await ask(d, 'before.facebook.com');
    // Once that row is stored, another connection takes the write lock and keeps it: the daemon's
    // writes fail (SQLITE_BUSY).
    await until(() => {
      const db = openDb(d);
      try {
        return db.prepare("SELECT 1 FROM blocked WHERE qname = 'before.facebook.com'").get();
      } finally {
        db.close();
      }
    }, 'the first row');
    const locker = new Database(path.join(d.dir, 'webfilter.db'), { timeout: 10_000 });
    locker.exec('BEGIN EXCLUSIVE');
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) assert.is((await ask(d, `locked${i}.facebook.com`)).rcode, RCODE.NXDOMAIN);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 5000, `200 queries took ${elapsed} ms while the database was locked`);
    await d.waitForLog((l) => l.msg === 'evidence store write failed: retrying', 10_000);
    await d.waitForLog((l) => l.msg === 'evidence queue full: events dropped' && Number(l.dropped) > 0, 15_000);
    locker.exec('COMMIT');
    locker.close();
    // Writing resumes: a query after the unlock is recorded.
    await new Promise((r) => setTimeout(r, 500));
    await ask(d, 'after.facebook.com');
  } finally {
    await d.stop();
    await up.close();
  }
  const stopped = d.logs.find((l) => l.msg === 'webfilter stopped')!;
  assert.ok(Number(stopped.dropped) > 0, 'drops counted');
  const db = openDb(d);
  const names = (db.prepare('SELECT qname FROM blocked').all() as { qname: string }[]).map((r) => r.qname);
  assert.ok(names.includes('before.facebook.com'));
  assert.ok(names.includes('after.facebook.com'), 'written again after the lock was released');
  assert.ok(names.length < 202, 'some events were dropped rather than queued without bound');
  db.close();
});

test.run();
