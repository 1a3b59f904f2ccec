/**
 * End-to-end: device names from DNS (clients.names_from_ptr) and from a Windows DHCP server's CSV
 * export. The reverse zone's server is a fake that holds its PTR answer until the test lets it go,
 * to show that DNS answers never wait for the lookup and that the row is written after it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import path from 'node:path';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { encodeName } from '../../src/dns/name.js';
import { startDaemon, testConfig, LISTS } from '../helpers/daemon-process.js';
import { until } from '../helpers/wait.js';
import { udpQuery } from '../helpers/dns-client.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { header, query, questionEnd, reply, rr } from '../helpers/wire-builder.js';

/** Get-DhcpServerv4Lease | Export-Csv, as Windows PowerShell 5.1 writes it (with the #TYPE line). */
const WINDOWS_CSV = `#TYPE Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/DHCP/DhcpServerv4Lease
"IPAddress","ScopeId","AddressState","ClientId","ClientType","Description","DnsRegistration","DnsRR","HostName","LeaseExpiryTime","NapCapable","NapStatus","PolicyName","ProbationEnds","ServerIP","PSComputerName"
"127.0.0.30","127.0.0.0","Active","aa-bb-cc-00-00-30","Dhcp","","Complete","AandPTR","LIB-PC-4.school.local","30/11/2026 21:00:00","False","FullAccess","","","10.0.0.10",""
"127.0.0.99","127.0.0.0","Expired","aa-bb-cc-00-00-99","Dhcp","","Complete","AandPTR","OLD-PC.school.local","01/11/2026 09:00:00","False","FullAccess","","","10.0.0.10",""
`;

test('names_from_ptr: DNS answers while the PTR lookup is pending; the row is written after it, with the name', async () => {
  const main = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const ptrQueries: string[] = [];
  const dc = await startFakeUpstream((q) => {
    const name = q.subarray(12, questionEnd(q) - 4);
    ptrQueries.push(name.toString('latin1'));
    const ptr = { name: 'x', type: TYPE.PTR, ttl: 1200, data: encodeName('Y9-LT-07.school.local') };
    return { after: held, reply: reply(q, { answers: [ptr], aa: true }) };
  });
  const d = await startDaemon(
    testConfig({
      upstreams: [main.port],
      timeoutMs: 10_000,
      upstreamExtra: `  zones: { 127.in-addr.arpa: ["127.0.0.1:${dc.port}"] }`,
      database: 'flush_ms: 20',
      extra: 'clients: { names_from_ptr: true, leases: { file: leases.csv, format: windows-csv } }',
    }),
    { ...LISTS, 'leases.csv': WINDOWS_CSV },
  );
  const db = () => new Database(path.join(d.dir, 'webfilter.db'), { readonly: true, fileMustExist: true });
  const rows = () => {
    try {
      const conn = db();
      const r = conn.prepare('SELECT client, device, qname FROM blocked ORDER BY id').all() as Record<string, string>[];
      conn.close();
      return r;
    } catch {
      return [];
    }
  };
  try {
    const first = await udpQuery(d.port, query('www.facebook.com'), { localAddress: '127.0.0.10' });
    assert.is(header(first!).rcode, RCODE.NXDOMAIN);
    // The writer asks the zone's server for 10.0.0.127.in-addr.arpa; its answer is held.
    await until(() => ptrQueries.length > 0, 'the PTR query');
    assert.is(ptrQueries.length, 1);
    // Meanwhile DNS goes on: the same client and another are answered while the lookup is pending.
    for (const client of ['127.0.0.10', '127.0.0.30']) {
      const r = await udpQuery(d.port, query('www.bbc.co.uk'), { localAddress: client, timeoutMs: 2000 });
      assert.ok(r, `answered for ${client} while the PTR lookup waits`);
      assert.is(header(r!).rcode, RCODE.NOERROR);
    }
    assert.equal(rows(), [], 'nothing written before the lookup ends: rows carry the name, not a blank');
    release();
    const written = await until(() => (rows().length > 0 ? rows() : null), 'the blocked row');
    assert.equal(written[0], { client: '127.0.0.10', device: 'Y9-LT-07', qname: 'www.facebook.com' });
    // Later attempts use the cached name: no second lookup (the TTL is 1200 s).
    await udpQuery(d.port, query('facebook.com'), { localAddress: '127.0.0.10' });
    // A client with a Windows DHCP lease (default group) is named from the CSV export, without a PTR lookup.
    await udpQuery(d.port, query('www.facebook.com'), { localAddress: '127.0.0.30' });
    await until(() => rows().length === 3, 'three blocked rows');
    assert.equal(
      rows().map((r) => `${r.client} ${r.device}`),
      ['127.0.0.10 Y9-LT-07', '127.0.0.10 Y9-LT-07', '127.0.0.30 LIB-PC-4'],
    );
    assert.equal(ptrQueries, ['\x0210\x010\x010\x03127\x07in-addr\x04arpa\x00'], 'one PTR lookup in all');
  } finally {
    release();
    await d.stop();
    await main.close();
    await dc.close();
  }
});

test.run();
