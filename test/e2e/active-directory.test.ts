/**
 * End-to-end: a Windows / Active Directory school. Two real authoritative servers (Knot DNS) play the
 * domain controllers for an AD-like `school.local` and a reverse zone; the fake upstream is the main
 * upstream, so every query that reaches it is counted. Covers conditional forwarding (upstream.zones)
 * with failover, special-use names and private reverse zones answered here, local_records, the
 * policy running before a zone, `webfilter check`, and dynamic updates (RFC 2136) the Windows way.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import dns2 from 'dns2';
import Database from 'better-sqlite3';
import path from 'node:path';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { udpQuery } from '../helpers/dns-client.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { startKnot, type KnotServer } from '../helpers/knot.js';
import { needTool } from '../helpers/tools.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const run = promisify(execFile);
const STUDENT = { localAddress: '127.0.0.10' };
const SIXTH_FORM = { localAddress: '127.0.0.20' };

/** The AD domain as a domain controller serves it; `dc` names the server in its SOA and TXT. */
function schoolZone(dc: string): string {
  return `$ORIGIN school.local.
$TTL 300
@ SOA ${dc} hostmaster 1 900 600 86400 60
@ NS dc1
@ NS dc2
@ A 127.0.0.1
dc1 A 127.0.0.1
dc2 A 127.0.0.2
_ldap._tcp.dc._msdcs SRV 0 100 389 dc1
_ldap._tcp.dc._msdcs SRV 0 100 389 dc2
_kerberos._tcp SRV 0 100 88 dc1
_kerberos._tcp SRV 0 100 88 dc2
_ldap._tcp SRV 0 100 389 dc1
games A 10.0.0.99
whoami TXT "${dc}"
whoami-later TXT "${dc}"
`;
}

const REVERSE_ZONE = `$ORIGIN 0.0.127.in-addr.arpa.
$TTL 300
@ SOA dc1.school.local. hostmaster.school.local. 1 900 600 86400 60
@ NS dc1.school.local.
1 PTR dc1.school.local.
10 PTR Y9-LT-07.school.local.
`;

let dc1: KnotServer;
let dc2: KnotServer;
let main: FakeUpstream;
let d: DaemonProcess;

/** How many queries the main upstream has seen for names ending in `suffix`. */
const mainSaw = (suffix: string) =>
  main.received.filter((r) => dns2.Packet.parse(r.query).questions[0].name.toLowerCase().endsWith(suffix)).length;

async function ask(name: string, type: number = TYPE.A, client = SIXTH_FORM) {
  const r = await udpQuery(d.port, query(name, type), client);
  assert.ok(r, `no answer for ${name}`);
  return { h: header(r!), p: dns2.Packet.parse(r!), aa: (r!.readUInt16BE(2) & 0x0400) !== 0 };
}

test.before(async () => {
  needTool('kdig');
  needTool('dig');
  needTool('nsupdate');
  dc1 = await startKnot({
    zones: { 'school.local': schoolZone('dc1'), '0.0.127.in-addr.arpa': REVERSE_ZONE },
    address: '127.0.0.1',
    allowUpdates: true,
  });
  dc2 = await startKnot({
    zones: { 'school.local': schoolZone('dc2'), '0.0.127.in-addr.arpa': REVERSE_ZONE },
    address: '127.0.0.2',
  });
  main = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const zone = `["${dc1.hostPort}", "${dc2.hostPort}"]`;
  d = await startDaemon(
    testConfig({
      upstreams: [main.port],
      upstreamExtra: `  zones:\n    School.Local.: ${zone}\n    0.0.127.in-addr.arpa: ${zone}`,
      categories: '  facebook: [facebook.txt]\n  instagram: [instagram.txt]\n  games: [games.txt]',
      groups:
        '  students: { clients: [127.0.0.10/32], block: [facebook, games] }\n  sixth-form: { clients: [127.0.0.20/32], block: [] }\n  default: { block: [facebook] }',
      database: 'flush_ms: 20',
      extra: `clients: { names_from_ptr: true }
local_records:
  filter.school.local: 10.0.0.53
  "printer-b12.school.local": [10.0.12.5, "fd00::12:5"]`,
    }),
    { ...LISTS, 'games.txt': 'games.school.local\n' },
  );
});

test.after(async () => {
  await d?.stop();
  await main?.close();
  await dc1?.stop();
  await dc2?.stop();
});

test('SRV, A and SOA of the AD domain come from the domain controllers; other names from the main upstreams', async () => {
  const srv = await ask('_ldap._tcp.dc._msdcs.school.local', TYPE.SRV);
  assert.is(srv.h.rcode, RCODE.NOERROR);
  assert.equal(srv.p.answers.map((a: any) => `${a.port} ${a.target}`).sort(), ['389 dc1.school.local', '389 dc2.school.local']);
  const krb = await ask('_kerberos._tcp.school.local', TYPE.SRV);
  assert.equal(krb.p.answers.map((a: any) => `${a.port} ${a.target}`).sort(), ['88 dc1.school.local', '88 dc2.school.local']);
  assert.equal(
    (await ask('dc2.school.local')).p.answers.map((a: any) => a.address),
    ['127.0.0.2'],
  );
  const soa = await ask('school.local', TYPE.SOA);
  assert.is(soa.p.answers[0].primary, 'dc1.school.local', 'the first DC answered');
  assert.is(mainSaw('school.local'), 0, 'no AD name reached the main upstream');
  const ptr = await ask('10.0.0.127.in-addr.arpa', TYPE.PTR);
  assert.is(ptr.p.answers[0].domain, 'y9-lt-07.school.local', 'the reverse zone is forwarded to the DCs too');

  const before = main.received.length;
  assert.equal(
    (await ask('www.bbc.co.uk')).p.answers.map((a: any) => a.address),
    ['192.0.2.1'],
  );
  assert.is(main.received.length, before + 1, 'a public name goes to the main upstream');
  assert.is(mainSaw('in-addr.arpa'), 0);
});

test('answers from a zone are cached like any other', async () => {
  const first = await ask('_kerberos._tcp.school.local', TYPE.SRV);
  const again = await ask('_kerberos._tcp.school.local', TYPE.SRV);
  assert.is(again.h.rcode, RCODE.NOERROR);
  assert.ok(again.p.answers[0].ttl <= first.p.answers[0].ttl);
  const metrics = await fetch(`http://${d.metrics}/metrics`).then((r) => r.text());
  assert.match(metrics, /webfilter_responses_total\{group="sixth-form",result="cached"\} [1-9]/);
});

test('a blocked name inside the AD zone is still blocked for a blocking group (policy before the zone)', async () => {
  const student = await ask('games.school.local', TYPE.A, STUDENT);
  assert.is(student.h.rcode, RCODE.NXDOMAIN);
  assert.is(student.p.authorities[0].primary, 'webfilter.invalid', "webfilter's block answer, not the DC's");
  const sixth = await ask('games.school.local');
  assert.equal(
    sixth.p.answers.map((a: any) => a.address),
    ['10.0.0.99'],
    'allowed for the sixth form, from the DC',
  );
});

test("names_from_ptr: the student's blocked attempt is recorded with the device name the DCs' reverse zone gives", async () => {
  const deadline = Date.now() + 5000;
  let row: Record<string, string> | undefined;
  while (!row && Date.now() < deadline) {
    try {
      const db = new Database(path.join(d.dir, 'webfilter.db'), { readonly: true, fileMustExist: true });
      row = db.prepare("SELECT client, device, qname FROM blocked WHERE qname = 'games.school.local'").get() as typeof row;
      db.close();
    } catch {
      // not created yet
    }
    if (!row) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(row, { client: '127.0.0.10', device: 'y9-lt-07', qname: 'games.school.local' });
});

test('private reverse lookups and special-use names get NXDOMAIN here, with no upstream query', async () => {
  const before = main.received.length;
  const dig = await run('dig', ['-x', '10.1.2.3', '@127.0.0.1', '-p', String(d.port), '+tries=1', '+time=3']);
  assert.match(dig.stdout, /status: NXDOMAIN/);
  assert.match(dig.stdout, /flags: qr aa rd ra/);
  for (const [name, type] of [
    ['5.1.168.192.in-addr.arpa', TYPE.PTR],
    ['9.9.17.172.in-addr.arpa', TYPE.PTR],
    ['4.3.254.169.in-addr.arpa', TYPE.PTR],
    ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', TYPE.PTR],
    ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa', TYPE.PTR],
    ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa', TYPE.PTR],
    ['9.9.9.127.in-addr.arpa', TYPE.PTR],
    ['localhost', TYPE.A],
    ['printer.local', TYPE.A],
    ['www.example.test', TYPE.AAAA],
    ['foo.invalid', TYPE.A],
    ['nas.home.arpa', TYPE.A],
  ] as const) {
    const r = await ask(name, type);
    assert.is(r.h.rcode, RCODE.NXDOMAIN, name);
    assert.ok(r.aa, `${name}: answered as the owner (AA)`);
  }
  assert.is(main.received.length, before, 'none of them reached the main upstream');
  // A public address's reverse name is an ordinary name: it goes to the main upstream.
  await ask('8.8.8.8.in-addr.arpa', TYPE.PTR);
  assert.is(main.received.length, before + 1);
});

test('local records: A, AAAA, PTR and NODATA for other types, for every group, before the zone', async () => {
  const a = await ask('filter.school.local', TYPE.A, STUDENT);
  assert.equal(
    a.p.answers.map((x: any) => x.address),
    ['10.0.0.53'],
  );
  assert.ok(a.aa);
  const v4 = await ask('printer-b12.school.local', TYPE.A);
  assert.equal(
    v4.p.answers.map((x: any) => x.address),
    ['10.0.12.5'],
  );
  const v6 = await ask('printer-b12.school.local', TYPE.AAAA);
  assert.equal(
    v6.p.answers.map((x: any) => x.address),
    ['fd00::12:5'],
  );
  const ptr = await ask('5.12.0.10.in-addr.arpa', TYPE.PTR);
  assert.equal(
    ptr.p.answers.map((x: any) => x.domain),
    ['printer-b12.school.local'],
  );
  const ptr6 = await ask('5.0.0.0.2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', TYPE.PTR);
  assert.equal(
    ptr6.p.answers.map((x: any) => x.domain),
    ['printer-b12.school.local'],
  );
  const mx = await ask('printer-b12.school.local', TYPE.MX);
  assert.equal([mx.h.rcode, mx.h.ancount, mx.h.nscount], [RCODE.NOERROR, 0, 1], 'NODATA with an SOA');
  const onlyV4 = await ask('filter.school.local', TYPE.AAAA);
  assert.equal([onlyV4.h.rcode, onlyV4.h.ancount], [RCODE.NOERROR, 0]);
  const metrics = await fetch(`http://${d.metrics}/metrics`).then((r) => r.text());
  assert.match(metrics, /webfilter_responses_total\{group="students",result="local"\} [1-9]/);
});

test('kdig: the domain controllers SRV lookup through webfilter', async () => {
  const { stdout } = await run('kdig', [`@127.0.0.1`, '-p', String(d.port), '_ldap._tcp.dc._msdcs.school.local', 'SRV']);
  assert.match(stdout, /status: NOERROR/);
  assert.match(stdout, /_ldap\._tcp\.dc\._msdcs\.school\.local\.\s+\d+\s+IN\s+SRV\s+0 100 389 dc1\.school\.local\./);
  assert.match(stdout, /_ldap\._tcp\.dc\._msdcs\.school\.local\.\s+\d+\s+IN\s+SRV\s+0 100 389 dc2\.school\.local\./);
});

test('webfilter check says which upstream set a name goes to', async () => {
  const c = (name: string) => cli(['check', name, '--config', d.configFile]);
  const zone = await c('_ldap._tcp.dc._msdcs.school.local');
  assert.is(zone.code, 0, zone.stderr);
  assert.match(
    zone.stdout,
    new RegExp(`upstream: +zone school\\.local \\(upstream\\.zones\\) → ${dc1.hostPort}, ${dc2.hostPort}`),
  );
  const pub = await c('www.bbc.co.uk');
  assert.match(pub.stdout, new RegExp(`upstream: +main upstreams → 127\\.0\\.0\\.1:${main.port}`));
  const rec = await c('printer-b12.school.local');
  assert.match(rec.stdout, /local: +local_records: 10\.0\.12\.5, fd00::12:5/);
  const special = JSON.parse((await cli(['check', '3.2.1.10.in-addr.arpa', '--json', '--config', d.configFile])).stdout);
  assert.equal([special.answer, special.upstream.set, special.upstream.zone], ['NXDOMAIN', 'none', '10.in-addr.arpa']);
});

test('dynamic updates: to webfilter NOTIMP; to the primary found through webfilter (SOA MNAME), accepted', async () => {
  // What a Windows client does: ask its DNS server (webfilter) for the SOA of its zone, look up the
  // primary named in it, and send the UPDATE there.
  const soa = await ask('school.local', TYPE.SOA);
  const primary = soa.p.answers[0].primary as string;
  const address = (await ask(primary)).p.answers[0].address as string;
  assert.is(address, dc1.address);
  const send = (server: string, port: number, name: string) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = execFile('nsupdate', ['-v'], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as any).code ?? 1) : 0, out: stdout + stderr }),
      );
      child.stdin!.end(`server ${server} ${port}\nzone school.local\nupdate add ${name}.school.local 300 A 10.20.1.7\nsend\n`);
    });
  const viaFilter = await send('127.0.0.1', d.port, 'y9-lt-09');
  assert.is.not(viaFilter.code, 0);
  assert.match(viaFilter.out, /NOTIMP/);
  const direct = await send(address, dc1.port, 'y9-lt-08');
  assert.is(direct.code, 0, direct.out);
  assert.equal(
    (await ask('y9-lt-08.school.local')).p.answers.map((a: any) => a.address),
    ['10.20.1.7'],
  );
});

test("the zone's first server down: its second answers; both down: SERVFAIL for the zone only", async () => {
  await dc1.stop();
  const txt = await ask('whoami.school.local', TYPE.TXT);
  assert.is(txt.h.rcode, RCODE.NOERROR);
  assert.equal(txt.p.answers[0].data, ['dc2'], 'answered by the second domain controller');
  await dc2.stop();
  const failed = await ask('whoami-later.school.local', TYPE.TXT);
  assert.is(failed.h.rcode, RCODE.SERVFAIL);
  assert.equal(
    (await ask('www.wikipedia.org')).p.answers.map((a: any) => a.address),
    ['192.0.2.1'],
    'public names unaffected',
  );
  assert.is(mainSaw('school.local'), 0, 'the AD zone never fell back to the public upstream');
});

test.run();
