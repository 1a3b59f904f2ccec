/** End-to-end: safe search per group, and locked categories that no path opens. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dns2 from 'dns2';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { cli } from '../helpers/cli.js';

const ENDPOINTS: Record<string, string> = {
  'forcesafesearch.google.com': '216.239.38.120',
  'strict.bing.com': '204.79.197.220',
  'restrict.youtube.com': '216.239.38.119',
  'restrictmoderate.youtube.com': '216.239.38.121',
  'safe.duckduckgo.com': '52.142.124.215',
};

test('safe search: engines get a CNAME to their safe endpoint plus its addresses; other groups are untouched', async () => {
  const up = await startFakeUpstream((q) => {
    const name = dns2.Packet.parse(q).questions[0].name.toLowerCase();
    if (dns2.Packet.parse(q).questions[0].type === TYPE.AAAA) return reply(q, { answers: [rr.aaaa(name, 120)] });
    return reply(q, { answers: [rr.a(name, ENDPOINTS[name] ?? '192.0.2.99', 120)] });
  });
  const d = await startDaemon(
    testConfig({
      upstreams: [up.port],
      groups:
        '  students: { clients: [127.0.0.10/32], block: [facebook], safe_search: true }\n' +
        '  sixth-form: { clients: [127.0.0.20/32], block: [], safe_search: { youtube: moderate } }\n' +
        '  default: { block: [] }',
    }),
    LISTS,
  );
  const ask = async (name: string, client: string, type: number = TYPE.A) =>
    dns2.Packet.parse((await udpQuery(d.port, query(name, type), { localAddress: client }))!);
  try {
    const cases: [string, string][] = [
      ['www.google.co.uk', 'forcesafesearch.google.com'],
      ['google.com', 'forcesafesearch.google.com'],
      ['WWW.Google.De', 'forcesafesearch.google.com'],
      ['www.bing.com', 'strict.bing.com'],
      ['www.youtube.com', 'restrict.youtube.com'],
      ['m.youtube.com', 'restrict.youtube.com'],
      ['youtubei.googleapis.com', 'restrict.youtube.com'],
      ['duckduckgo.com', 'safe.duckduckgo.com'],
    ];
    for (const [name, target] of cases) {
      const p = await ask(name, '127.0.0.10');
      assert.is(p.header.rcode, RCODE.NOERROR, name);
      assert.is(p.answers[0].type, TYPE.CNAME, name);
      assert.is(p.answers[0].name.toLowerCase(), name.toLowerCase());
      assert.is(p.answers[0].domain, target, name);
      assert.is(p.answers[1].name, target);
      assert.is(p.answers[1].address, ENDPOINTS[target], `${name}: the endpoint's address, resolved upstream`);
    }
    const aaaa = await ask('www.google.co.uk', '127.0.0.10', TYPE.AAAA);
    assert.equal([aaaa.answers[0].domain, aaaa.answers[1].type], ['forcesafesearch.google.com', TYPE.AAAA]);
    const https = await ask('www.google.co.uk', '127.0.0.10', TYPE.HTTPS);
    assert.equal(
      [https.answers.length, https.answers[0].domain],
      [1, 'forcesafesearch.google.com'],
      'other types: the CNAME alone',
    );
    const [tcp] = await tcpQuery(d.port, [query('www.bing.com')], { localAddress: '127.0.0.10' });
    assert.is(dns2.Packet.parse(tcp).answers[0].domain, 'strict.bing.com');
    assert.is(
      (await ask('www.youtube.com', '127.0.0.20')).answers[0].domain,
      'restrictmoderate.youtube.com',
      'youtube: moderate',
    );

    const before = up.received.length;
    const plain = await ask('www.google.co.uk', '127.0.0.30');
    assert.equal(
      [plain.answers.length, plain.answers[0].type, plain.answers[0].address],
      [1, TYPE.A, '192.0.2.99'],
      'other groups: forwarded untouched',
    );
    assert.is(dns2.Packet.parse(up.received[before].query).questions[0].name, 'www.google.co.uk');
    assert.is(
      header((await udpQuery(d.port, query('www.facebook.com'), { localAddress: '127.0.0.10' }))!).rcode,
      RCODE.NXDOMAIN,
      'blocks still come first',
    );
  } finally {
    await d.stop();
    await up.close();
  }
});

test('a locked category: blocked for every group, and no exception, schedule, allow entry or group rule opens it', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const files = { ...LISTS, 'iwf.txt': 'illegal.example\n', 'mixed.txt': 'other.example\n@@||illegal.example^\n' };
  const d = await startDaemon(
    testConfig({
      upstreams: [up.port],
      categories:
        '  facebook: [facebook.txt]\n  instagram: [instagram.txt]\n  illegal: { lists: [iwf.txt], locked: true }\n  mixed: [mixed.txt]',
      groups:
        '  students: { clients: [127.0.0.10/32], block: [mixed] }\n  sixth-form: { clients: [127.0.0.20/32], block: [] }\n  default: { block: [] }',
    }),
    files,
  );
  const W = (...args: string[]) => cli(['--config', d.configFile, ...args]);
  try {
    for (const client of ['127.0.0.10', '127.0.0.20', '127.0.0.30']) {
      assert.is(
        header((await udpQuery(d.port, query('www.illegal.example'), { localAddress: client }))!).rcode,
        RCODE.NXDOMAIN,
        client,
      );
    }
    const byCategory = await W(
      'exception',
      'add',
      '--group',
      'sixth-form',
      '--category',
      'illegal',
      '--for',
      '1h',
      '--reason',
      'r',
      '--approved-by',
      'h',
    );
    assert.is(byCategory.code, 1);
    assert.match(byCategory.stderr, /locked/);
    // The locked name itself is refused, naming the rule (such an exception would do nothing)…
    const exact = await W(
      ...['exception', 'add', '--client', '127.0.0.20', '--domain', 'illegal.example', '--for', '1h'],
      ...['--reason', 'r', '--approved-by', 'h'],
    );
    assert.is(exact.code, 1);
    assert.match(exact.stderr, /blocked by the locked category illegal \(entry "illegal.example"/);
    // …and one for a parent name, which is accepted, still cannot open the locked name under it.
    const byDomain = await W(
      ...['exception', 'add', '--client', '127.0.0.20', '--domain', 'example', '--for', '1h'],
      ...['--reason', 'r', '--approved-by', 'h'],
    );
    assert.is(byDomain.code, 0, `a domain exception for a parent name is accepted… ${byDomain.stderr}`);
    await new Promise((r) => setTimeout(r, 700));
    assert.is(
      header((await udpQuery(d.port, query('www.illegal.example'), { localAddress: '127.0.0.20' }))!).rcode,
      RCODE.NXDOMAIN,
      'the name stays blocked',
    );
    const check = JSON.parse((await W('check', 'www.illegal.example', '--client', '127.0.0.20', '--json')).stdout);
    assert.equal([check.decision, check.category, check.locked], ['blocked', 'illegal', true]);
  } finally {
    await d.stop();
    await up.close();
  }
});

test.run();
