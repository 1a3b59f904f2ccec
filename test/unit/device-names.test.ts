/** Unit: Windows DHCP CSV leases and device names from PTR records (names_from_ptr). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeName } from '../../src/dns/name.js';
import { leasesText, parseWindowsCsvLeases } from '../../src/evidence/leases.js';
import { PtrNames } from '../../src/evidence/ptr-names.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { reply } from '../helpers/wire-builder.js';

const HEADER =
  '"IPAddress","ScopeId","AddressState","ClientId","ClientType","Description","DnsRegistration","DnsRR","HostName","LeaseExpiryTime","NapCapable","NapStatus","PolicyName","ProbationEnds","ServerIP","PSComputerName"';
const row = (ip: string, state: string, mac: string, host: string, description = '') =>
  `"${ip}","10.20.0.0","${state}","${mac}","Dhcp","${description}","Complete","AandPTR","${host}","30/11/2026 21:00:00","False","FullAccess","","","10.0.0.10",""`;

test('Windows DHCP CSV: PowerShell 5.1 (#TYPE line) and 7, states, MAC and host name forms', () => {
  const ps51 = [
    '#TYPE Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/DHCP/DhcpServerv4Lease',
    HEADER,
    row('10.20.1.7', 'Active', 'AA-BB-CC-00-01-07', 'Y9-LT-07.school.local', 'Room 12, trolley "B"'.replace(/"/g, '""')),
    row('10.20.1.8', 'ActiveReservation', 'aa-bb-cc-00-01-08', 'PRINTER-B12'),
    row('10.20.1.9', 'Expired', 'aa-bb-cc-00-01-09', 'OLD-PC.school.local'),
    row('10.20.1.10', 'Declined', 'aa-bb-cc-00-01-10', ''),
    row('10.20.1.11', 'Active', 'aa-bb-cc-00-01-11', ''),
  ].join('\r\n');
  const leases = parseWindowsCsvLeases(ps51);
  assert.equal(Object.fromEntries(leases), {
    '10.20.1.7': { mac: 'aa:bb:cc:00:01:07', hostname: 'Y9-LT-07' },
    '10.20.1.8': { mac: 'aa:bb:cc:00:01:08', hostname: 'PRINTER-B12' },
    '10.20.1.11': { mac: 'aa:bb:cc:00:01:11', hostname: '' },
  });
  // PowerShell 7 (no #TYPE by default), saved as UTF-16 with a BOM (-Encoding Unicode).
  const ps7 = Buffer.concat([
    Buffer.from([0xff, 0xfe]),
    Buffer.from(`${HEADER}\n${row('10.20.2.1', 'Active', 'aa-bb-cc-00-02-01', 'LIB-PC-4.school.local')}\n`, 'utf16le'),
  ]);
  assert.equal(parseWindowsCsvLeases(leasesText(ps7)).get('10.20.2.1'), { mac: 'aa:bb:cc:00:02:01', hostname: 'LIB-PC-4' });
  const utf8Bom = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(`${HEADER}\n${row('10.20.2.2', 'Active', 'aa-bb-cc-00-02-02', 'X')}\n`),
  ]);
  assert.is(parseWindowsCsvLeases(leasesText(utf8Bom)).get('10.20.2.2')?.hostname, 'X');
  assert.is(parseWindowsCsvLeases('').size, 0);
  assert.throws(() => parseWindowsCsvLeases('1900000000 aa:bb:cc:dd:ee:ff 10.0.0.1 pc *\n'), /no IPAddress column/);
});

test('PTR names: local records, no zone, the zone server with TTL and negative caching', async () => {
  const answers: Record<string, string> = { '7.1.20.10.in-addr.arpa': 'Y9-LT-07.school.local' };
  const dc = await startFakeUpstream((q) => {
    let p = 12;
    const labels: string[] = [];
    while (q[p] !== 0) {
      labels.push(q.subarray(p + 1, p + 1 + q[p]).toString('latin1'));
      p += q[p] + 1;
    }
    const target = answers[labels.join('.')];
    if (!target) return reply(q, { rcode: 3 });
    return reply(q, { answers: [{ name: labels.join('.'), type: 12, ttl: 30, data: encodeName(target) }] });
  });
  let now = 1_000_000;
  const ptr = new PtrNames(
    {
      zones: [{ zone: '20.10.in-addr.arpa', servers: [{ host: '127.0.0.1', port: dc.port, family: 4 }] }],
      localRecords: { 'printer-b12.school.local': '10.0.12.5' },
      strategy: 'failover',
      timeoutMs: 1000,
    },
    () => now,
  );
  try {
    await ptr.lookup(['10.20.1.7', '10.20.1.8', '10.0.12.5', '10.30.0.1', '192.0.2.7']);
    assert.is(ptr.name('10.20.1.7'), 'Y9-LT-07', 'first label of the PTR name');
    assert.is(ptr.name('10.20.1.8'), '', 'NXDOMAIN: no name');
    assert.is(ptr.name('10.0.12.5'), 'printer-b12', 'from local_records, no query');
    assert.is(ptr.name('10.30.0.1'), '', 'no zone for 10.30/16: never asked anywhere');
    assert.is(ptr.name('192.0.2.7'), '', 'a public address is not sent to the main upstreams either');
    assert.is(ptr.lookups, 2);
    assert.is(dc.received.length, 2);
    // The name is kept at least 60 s even though the record says 30; then it is stale.
    now += 59_000;
    assert.equal([ptr.stale('10.20.1.7'), ptr.stale('10.20.1.8')], [false, false]);
    now += 2_000;
    assert.equal([ptr.stale('10.20.1.7'), ptr.name('10.20.1.7')], [true, '']);
    now += 300_000;
    assert.is(ptr.stale('10.20.1.8'), true, 'no-name answers are asked again after 5 minutes');
  } finally {
    ptr.close();
    await dc.close();
  }
});

test.run();
