import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { writeFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { DeviceNames } from '../../src/evidence/devices.js';
import { PersistentAttemptsDetector } from '../../src/evidence/detectors/persistent.js';
import { TunnelDetector, entropy } from '../../src/evidence/detectors/tunnel.js';
import { parseDnsmasqLeases, parseIscLeases } from '../../src/evidence/leases.js';
import { EvidenceProcessor, registrableDomain, type ProcessorConfig } from '../../src/evidence/processor.js';
import type { QueryEvent } from '../../src/observe/query-event.js';
import { configSchema } from '../../src/config/schema.js';
import { tempDir } from '../helpers/daemon-process.js';

const defaults = configSchema.parse({ groups: { default: {} } }).circumvention;
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

function ev(over: Partial<QueryEvent>): QueryEvent {
  return {
    at: T0,
    transport: 'udp',
    client: '10.20.1.5',
    group: 'students',
    qname: 'www.example.com',
    qtype: 1,
    kind: 'forwarded',
    reason: '',
    entry: '',
    rcode: 0,
    duration: 0,
    upstream: '',
    response: '',
    signal: '',
    recordBlocked: false,
    via: '',
    user: '',
    ...over,
  };
}

function processor(over: Partial<ProcessorConfig> = {}) {
  return new EvidenceProcessor(
    { access: 'aggregate', circumvention: defaults, collapseMs: 0, ...over },
    new DeviceNames({ names: { '10.20.1.5': 'LT-5' }, leases: null }),
  );
}

test('blocked rows, rule signals and hourly access aggregates', () => {
  const rows = processor().process([
    ev({
      kind: 'blocked',
      qname: 'www.facebook.com',
      reason: 'facebook',
      entry: 'facebook.com',
      response: 'NXDOMAIN',
      recordBlocked: true,
    }),
    ev({
      kind: 'blocked',
      qname: 'use-application-dns.net',
      reason: 'doh-canary',
      entry: 'use-application-dns.net',
      response: 'NXDOMAIN',
      signal: 'doh-canary',
    }),
    ev({
      kind: 'blocked',
      qname: 'dns.google',
      qtype: 28,
      reason: 'encrypted-dns',
      entry: 'dns.google',
      response: 'NXDOMAIN',
      signal: 'encrypted-dns',
      recordBlocked: true,
    }),
    ev({ qname: 'www.bbc.co.uk' }),
    ev({ qname: 'static.bbc.co.uk', kind: 'cached', at: T0 + 1000 }),
    ev({ qname: 'www.bbc.co.uk', at: T0 + 3_600_000 }),
    ev({ kind: 'refused' }),
  ]);
  assert.equal(
    rows.blocked.map((b) => `${b.qname} ${b.category} ${b.device} ${b.qtype}`),
    ['www.facebook.com facebook LT-5 A', 'dns.google encrypted-dns LT-5 AAAA'],
  );
  assert.equal(
    rows.signals.map((s) => `${s.kind} ${s.severity} ${s.domain} ${s.count}`),
    ['doh-canary low use-application-dns.net 1', 'encrypted-dns high dns.google 1'],
  );
  assert.equal(
    rows.accessHourly.map((a) => `${a.domain} ${a.count} ${a.lastTs - a.firstTs}`),
    ['bbc.co.uk 2 1000', 'bbc.co.uk 1 0'],
  );
  assert.is(rows.access.length, 0);
});

test('a block found in a CNAME chain keeps its chain in the blocked row', () => {
  const rows = processor().process([
    ev({
      kind: 'blocked',
      qname: 'cloak.example',
      reason: 'facebook',
      entry: 'facebook.com',
      recordBlocked: true,
      via: 'cloak.example → www.facebook.com',
    }),
  ]);
  assert.is(rows.blocked[0].via, 'cloak.example → www.facebook.com');
  assert.is(rows.blocked[0].qname, 'cloak.example');
});

test('log.access full writes one row per query; off writes none', () => {
  const events = [ev({}), ev({ kind: 'cached' })];
  assert.is(processor({ access: 'full' }).process(events).access.length, 2);
  const off = processor({ access: 'off' }).process(events);
  assert.equal([off.access.length, off.accessHourly.length], [0, 0]);
});

test('registrable domains', () => {
  assert.is(registrableDomain('www.bbc.co.uk'), 'bbc.co.uk');
  assert.is(registrableDomain('a.b.mask.icloud.com'), 'icloud.com');
  assert.is(registrableDomain('localhost'), 'localhost');
});

test('tunnel: an iodine-like burst fires once, then counts into the same signal', () => {
  const t = new TunnelDetector(defaults.tunnel);
  const fired: number[] = [];
  let count = 0;
  for (let i = 0; i < 150; i++) {
    const data = Buffer.from(`${i}:${'payload'.repeat(6)}:${i * 7919}`)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x');
    const s = t.track(
      T0 + i * 100,
      'c',
      '',
      'g',
      `${data.slice(0, 60)}.${data.slice(60, 100)}.t.evil-tunnel.example`,
      1,
      'evil-tunnel.example',
    );
    if (s) {
      fired.push(i);
      count += s.count;
    }
  }
  assert.is(fired[0], 9, 'the 10th name with a long random label fires it');
  assert.is(count, 150, 'every unique name after that counts into the same signal');
});

test('tunnel: many unique names with long encoded parts fire even when no label is long', () => {
  const t = new TunnelDetector(defaults.tunnel);
  let first = -1;
  for (let i = 0; i < 120 && first < 0; i++) {
    const hex = createHash('sha1').update(`chunk${i}`).digest('hex'); // 40 chars per label, below long_label
    if (t.track(T0 + i * 200, 'c', '', 'g', `${hex}.${hex.slice(0, 30)}.s.cat.example`, 1, 'cat.example')) first = i;
  }
  assert.is(first, 99, 'the 100th unique name with a 70-char encoded part');
});

test('tunnel: TXT bursts and long random labels fire; ordinary CDN names at twice normal volume do not', () => {
  const txt = new TunnelDetector(defaults.tunnel);
  const txtHits = Array.from({ length: 40 }, (_, i) =>
    txt.track(T0 + i, 'c', '', 'g', `q${i}.x.txt-tunnel.example`, 16, 'txt-tunnel.example'),
  ).filter(Boolean);
  assert.ok(txtHits.length > 0);
  const long = new TunnelDetector(defaults.tunnel);
  // 52 base32 characters of a hash: what an encoder's output looks like.
  const rand = (i: number) => {
    const bytes = createHash('sha256').update(String(i)).digest();
    let bits = '';
    for (const b of bytes) bits += b.toString(2).padStart(8, '0');
    return Array.from(
      { length: 52 },
      (_, k) => 'abcdefghijklmnopqrstuvwxyz234567'[parseInt(bits.slice(k * 5, k * 5 + 5).padEnd(5, '0'), 2)],
    ).join('');
  };
  assert.ok(entropy(rand(1)) > defaults.tunnel.entropy_bits);
  const longHits = Array.from({ length: 12 }, (_, i) =>
    long.track(T0 + i, 'c', '', 'g', `${rand(i)}.lt.example`, 1, 'lt.example'),
  ).filter(Boolean);
  assert.ok(longHits.length > 0, 'long high-entropy labels');

  const cdn = new TunnelDetector(defaults.tunnel);
  let hits = 0;
  for (let i = 0; i < 120; i++) {
    const h = (n: number) => ((n * 2654435761) >>> 0).toString(16).padStart(8, '0');
    const names: [string, string, number][] = [
      [`rr${i % 8}---sn-${h(i)}-aigl${i % 10}.googlevideo.com`, 'googlevideo.com', 1],
      [`${h(i)}${h(i + 1)}${h(i + 2)}${h(i + 3)}.safeframe.googlesyndication.com`, 'googlesyndication.com', 1],
      [`d${h(i)}.cloudfront.net`, 'cloudfront.net', 28],
      [`e${1000 + i}.dscb.akamaiedge.net`, 'akamaiedge.net', 1],
      [`scontent-lhr${i % 9}-${i % 3}.xx.fbcdn.net`, 'fbcdn.net', 65],
      [`internal-app-prod-lb-${h(i)}${i}.eu-west-2.elb.amazonaws.com`, 'amazonaws.com', 1],
      [`_dmarc.s${i % 6}.example.org`, 'example.org', 16],
    ];
    for (const [n, d, ty] of names) if (cdn.track(T0 + i * 500, 'c', '', 'g', n, ty, d)) hits++;
  }
  assert.is(hits, 0);
});

test('persistent attempts: one signal per window', () => {
  const p = new PersistentAttemptsDetector({ threshold: 20, window_minutes: 5 });
  const at = (min: number) => T0 + min * 60_000;
  const fired: number[] = [];
  // 30 attempts in the first 3 minutes, then 25 more from minute 6.
  for (let i = 0; i < 30; i++) if (p.track(at(i * 0.1), 'c', '', 'g', 'x.instagram.com', 'instagram')) fired.push(i);
  for (let i = 0; i < 25; i++) if (p.track(at(6 + i * 0.1), 'c', '', 'g', 'x.instagram.com', 'instagram')) fired.push(100 + i);
  // At minute 6.9 the last 5 minutes hold 10 attempts of the first burst and 10 new ones: a new window.
  assert.equal(fired, [19, 109]);
  const slow = new PersistentAttemptsDetector({ threshold: 20, window_minutes: 5 });
  const slowFires = Array.from({ length: 40 }, (_, i) => slow.track(at(i), 'c', '', 'g', 'q', 'instagram')).filter(Boolean);
  assert.is(slowFires.length, 0, 'one a minute never reaches 20 in 5 minutes');
});

test('DHCP leases: dnsmasq and ISC formats', () => {
  const dm = parseDnsmasqLeases(
    '1764000000 AA:BB:CC:00:00:01 10.20.1.5 laptop-7 01:aa\n1764000000 aa:bb:cc:00:00:02 10.20.1.6 * *\nduid 00:01\n',
  );
  assert.equal(dm.get('10.20.1.5'), { mac: 'aa:bb:cc:00:00:01', hostname: 'laptop-7' });
  assert.equal(dm.get('10.20.1.6'), { mac: 'aa:bb:cc:00:00:02', hostname: '' });
  const isc = parseIscLeases(`
lease 10.20.1.7 {
  starts 1 2026/11/23 08:00:00;
  binding state active;
  hardware ethernet 00:11:22:33:44:55;
  client-hostname "Y9-iPad";
}
lease 10.20.1.8 { binding state active; hardware ethernet 00:11:22:33:44:66; }
lease 10.20.1.8 { binding state free; hardware ethernet 00:11:22:33:44:66; }
`);
  assert.equal(isc.get('10.20.1.7'), { mac: '00:11:22:33:44:55', hostname: 'Y9-iPad' });
  assert.is(isc.has('10.20.1.8'), false, 'freed lease forgotten');
});

test('device names: IP name, then MAC name, then DHCP hostname; leases re-read when they change', () => {
  const dir = tempDir();
  const leases = path.join(dir, 'leases');
  writeFileSync(leases, '1 aa:aa:aa:aa:aa:01 10.0.0.1 host-one x\n1 aa:aa:aa:aa:aa:02 10.0.0.2 host-two x\n');
  let now = 0;
  const d = new DeviceNames(
    { names: { '10.0.0.9': 'fixed-pc', 'AA:AA:AA:AA:AA:02': 'Named-By-MAC' }, leases: { file: leases, format: 'dnsmasq' } },
    () => now,
  );
  assert.is(d.name('10.0.0.9'), 'fixed-pc');
  assert.is(d.name('10.0.0.1'), 'host-one');
  assert.is(d.name('10.0.0.2'), 'Named-By-MAC');
  assert.is(d.name('10.0.0.3'), '');
  writeFileSync(leases, '1 aa:aa:aa:aa:aa:03 10.0.0.1 someone-else x\n');
  utimesSync(leases, new Date(), new Date(Date.now() + 10_000));
  assert.is(d.name('10.0.0.1'), 'host-one', 'not re-checked within 5 s');
  now += 6000;
  assert.is(d.name('10.0.0.1'), 'someone-else', 'DHCP gave the address to another device');
});

test.run();
