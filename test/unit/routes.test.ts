/** Unit: conditional-forwarding routes, special-use zones, local records and reverse names. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LocalRecords } from '../../src/dns/local-records.js';
import { reverseName } from '../../src/dns/reverse-name.js';
import { SuffixMap } from '../../src/dns/suffix-map.js';
import { parseIp } from '../../src/net/ip.js';
import { UpstreamRoutes, type Route } from '../../src/upstream/routes.js';

const where = (r: Route<string>) =>
  r.kind === 'local' ? `local ${r.zone}` : r.kind === 'zone' ? `zone ${r.zone} ${r.value}` : `main ${r.value}`;

test('SuffixMap: the longest zone a name is in wins, on label boundaries only', () => {
  const m = new SuffixMap<string>();
  m.set('school.local', 'ad');
  m.set('staff.school.local', 'staff');
  m.set('local', 'mdns');
  assert.is(m.longest('dc1.school.local'), 'ad');
  assert.is(m.longest('school.local'), 'ad');
  assert.is(m.longest('pc.staff.school.local'), 'staff');
  assert.is(m.longest('printer.local'), 'mdns');
  assert.is(m.longest('myschool.local'), 'mdns', 'myschool.local is not in school.local');
  assert.is(m.longest('local'), 'mdns');
  assert.is(m.longest('example.com'), undefined);
  assert.is(m.longest(''), undefined);
  m.set('school.local', 'ad2');
  assert.is(m.size, 3);
  assert.is(m.longest('x.school.local'), 'ad2');
});

test('routes: configured zones, special-use names kept here unless a zone forwards them, the rest to main', () => {
  const r = new UpstreamRoutes('main', [
    { zone: 'school.local', value: 'dcs' },
    { zone: '20.10.in-addr.arpa', value: 'dcs' },
    { zone: 'in-addr.arpa', value: 'reverse' },
  ]);
  assert.is(where(r.route('_ldap._tcp.dc._msdcs.school.local')), 'zone school.local dcs');
  assert.is(where(r.route('printer.local')), 'local local');
  assert.is(where(r.route('localhost')), 'local localhost');
  assert.is(where(r.route('a.b.test')), 'local test');
  assert.is(where(r.route('x.invalid')), 'local invalid');
  assert.is(where(r.route('nas.home.arpa')), 'local home.arpa');
  assert.is(where(r.route('4.3.20.10.in-addr.arpa')), 'zone 20.10.in-addr.arpa dcs');
  // in-addr.arpa is configured, so it takes the private reverse zones under it.
  assert.is(where(r.route('3.2.1.10.in-addr.arpa')), 'zone in-addr.arpa reverse');
  assert.is(where(r.route('1.1.168.192.in-addr.arpa')), 'zone in-addr.arpa reverse');
  assert.is(where(r.route('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa')), 'local d.f.ip6.arpa');
  assert.is(where(r.route('www.bbc.co.uk')), 'main main');
  const plain = new UpstreamRoutes('main', []);
  for (const name of [
    '3.2.1.10.in-addr.arpa',
    '1.1.31.172.in-addr.arpa',
    '1.1.16.172.in-addr.arpa',
    '1.1.168.192.in-addr.arpa',
    '1.1.254.169.in-addr.arpa',
    '1.0.0.127.in-addr.arpa',
    '1.1.64.100.in-addr.arpa',
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.f.ip6.arpa',
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.e.f.ip6.arpa',
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa',
  ])
    assert.is(plain.route(name).kind, 'local', name);
  for (const name of [
    '1.1.32.172.in-addr.arpa',
    '1.1.128.100.in-addr.arpa',
    '8.8.8.8.in-addr.arpa',
    'in-addr.arpa',
    'arpa',
    'localhost.example.com',
  ])
    assert.is(plain.route(name).kind, 'main', name);
});

test('reverse names of IPv4 and IPv6 addresses', () => {
  assert.is(reverseName(parseIp('10.1.2.3')!), '3.2.1.10.in-addr.arpa');
  assert.is(reverseName(parseIp('fd00::12:5')!), '5.0.0.0.2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa');
});

test('local records: forward names, PTRs back, several names on one address, name of an address', () => {
  const l = new LocalRecords({
    'Filter.School.Local.': '10.0.0.53',
    'printer-b12.school.local': ['10.0.12.5', 'fd00::12:5'],
    'console.school.local': '10.0.0.53',
  });
  const f = l.get('filter.school.local')!;
  assert.equal([f.a.map((b) => [...b].join('.')), f.aaaa.length, f.ptr.length], [['10.0.0.53'], 0, 0]);
  assert.equal(l.get('printer-b12.school.local')!.text, ['10.0.12.5', 'fd00::12:5']);
  assert.equal(l.get('53.0.0.10.in-addr.arpa')!.text, ['filter.school.local', 'console.school.local']);
  assert.is(l.get('53.0.0.10.in-addr.arpa')!.ptr.length, 2);
  assert.equal(l.get('5.0.0.0.2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa')!.text, [
    'printer-b12.school.local',
  ]);
  assert.is(l.get('www.school.local'), undefined);
  assert.is(l.nameOf('10.0.0.53'), 'filter.school.local');
  assert.is(l.nameOf('::ffff:10.0.12.5'), 'printer-b12.school.local');
  assert.is(l.nameOf('FD00:0::12:5'), 'printer-b12.school.local');
  assert.is(l.nameOf('10.9.9.9'), undefined);
});

test.run();
