/** End-to-end: garbage packets, SIGHUP reloads, SIGTERM drain, `config check`, and dig as a client. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { CLI, ROOT, startDaemon, tempDir, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpBlast, udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import net from 'node:net';
import { needTool } from '../helpers/tools.js';

const run = promisify(execFile);
const STUDENT = { localAddress: '127.0.0.10' };
const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });

test('10,000 random and truncated packets, then a normal query still answers', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const base = query('www.example.com', TYPE.A, { edns: { do: true, options: [[10, Buffer.alloc(8, 1)]] } });
  const packets: Buffer[] = [];
  for (let i = 0; i < 10_000; i++) {
    if (i % 3 === 0) packets.push(Buffer.from(Array.from({ length: rand(80) }, () => rand(256))));
    else if (i % 3 === 1) packets.push(Buffer.from(base.subarray(0, rand(base.length))));
    else {
      const m = Buffer.from(base);
      for (let k = 0; k <= rand(4); k++) m[rand(m.length)] = rand(256);
      packets.push(m);
    }
  }
  await udpBlast(d.port, packets, STUDENT);
  // Odd TCP frames too: zero length, partial frames, a frame claiming more than is sent.
  for (const bytes of [
    Buffer.from([0, 0]),
    Buffer.from([0]),
    Buffer.from([0, 40, 1, 2, 3]),
    Buffer.concat([Buffer.from([0, 5]), Buffer.alloc(5)]),
  ]) {
    await new Promise<void>((resolve) => {
      const s = net.connect({ port: d.port, host: '127.0.0.1', localAddress: '127.0.0.10' }, () => {
        s.end(bytes);
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.resume();
    });
  }
  const r = (await udpQuery(d.port, query('alive.example'), STUDENT))!;
  assert.is(header(r).rcode, RCODE.NOERROR);
  const [tr] = await tcpQuery(d.port, [query('facebook.com')], STUDENT);
  assert.is(header(tr).rcode, RCODE.NXDOMAIN);
  assert.is(d.child.exitCode, null, 'still running');
  assert.not.ok(
    d.logs.some((l) => l.msg === 'query failed'),
    'no query blew up inside the chain',
  );
  const { code } = await d.stop();
  assert.is(code, 0);
  await up.close();
});

test('SIGHUP: a broken config keeps the old policy; a good one applies; an unreadable list keeps its entries', async () => {
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
  const rcode = async (name: string) => header((await udpQuery(d.port, query(name), STUDENT))!).rcode;
  try {
    assert.is(await rcode('facebook.com'), RCODE.NXDOMAIN);

    writeFileSync(d.configFile, 'groups: [this is not valid\n');
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'reload rejected: keeping the previous config');
    assert.is(await rcode('facebook.com'), RCODE.NXDOMAIN, 'old policy still served');
    assert.is(await rcode('example.org'), RCODE.NOERROR);

    // New config: students no longer block facebook, but block instagram and a new list.
    writeFileSync(path.join(d.dir, 'news.txt'), 'news.example\n');
    writeFileSync(
      d.configFile,
      testConfig({
        upstreams: [up.port],
        categories: '  facebook: [facebook.txt]\n  instagram: [instagram.txt]\n  news: [news.txt]',
        groups: '  students: { clients: [127.0.0.10/32], block: [instagram, news] }\n  default: { block: [] }',
      }),
    );
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'reloaded');
    assert.is(await rcode('facebook.com'), RCODE.NOERROR);
    assert.is(await rcode('www.news.example'), RCODE.NXDOMAIN);

    // The news list becomes unreadable: the reload goes ahead, keeping the list's previous entries.
    rmSync(path.join(d.dir, 'news.txt'));
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'list unreadable: keeping its previous entries');
    await d.waitForLog((l) => l.msg === 'reloaded' && d.logs.filter((x) => x.msg === 'reloaded').length === 2);
    assert.is(await rcode('www.news.example'), RCODE.NXDOMAIN, 'previous entries kept');
  } finally {
    assert.is((await d.stop()).code, 0);
    await up.close();
  }
});

test('SIGTERM: stops listening, finishes in-flight queries, exits 0 within 5 s', async () => {
  const up = await startFakeUpstream((q) => ({ delayMs: 300, reply: answer(q) }));
  const d = await startDaemon(testConfig({ upstreams: [up.port], timeoutMs: 2000 }), LISTS);
  const pending = udpQuery(d.port, query('slow.example'), STUDENT);
  await new Promise((r) => setTimeout(r, 50));
  const stopped = d.stop();
  const r = await pending;
  assert.ok(r, 'in-flight query answered');
  assert.is(header(r!).rcode, RCODE.NOERROR);
  const { code, ms } = await stopped;
  assert.is(code, 0);
  assert.ok(ms < 5000, `${ms} ms`);
  await up.close();
});

test('config check: three mistakes print three YAML paths and exit 1; shipped configs pass', async () => {
  const dir = tempDir({
    'fb.txt': 'facebook.com\nnot a domain\n',
    'bad.yaml': `upstream: { servers: ["192.0.2.1:53"], strategy: fastest }
categories: { facebook: [fb.txt] }
groups:
  students: { clients: [10.20.0.0/16, 10.0.0.0/33], block: [facebook] }
  default: { block: [facebok] }
`,
    'good.yaml': `upstream: { servers: ["192.0.2.1:53"] }
categories: { facebook: [fb.txt] }
groups: { default: { block: [facebook] } }
`,
  });
  const bad = spawnSync(process.execPath, [CLI, 'config', 'check', path.join(dir, 'bad.yaml')], { encoding: 'utf8' });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /3 problems/);
  assert.match(bad.stderr, /upstream\.strategy: "fastest" is not one of/);
  assert.match(bad.stderr, /groups\.students\.clients\[1\]: "10\.0\.0\.0\/33" is not a CIDR/);
  assert.match(bad.stderr, /groups\.default\.block\[0\]: unknown category "facebok"/);
  const good = spawnSync(process.execPath, [CLI, 'config', 'check', path.join(dir, 'good.yaml')], { encoding: 'utf8' });
  assert.is(good.status, 0, good.stderr);
  assert.match(good.stdout, /OK/);
  assert.match(good.stderr, /fb\.txt:2: .*line skipped: "not a domain"/);
  for (const f of ['config/webfilter.yaml', 'config/example.yaml']) {
    const { stdout } = await run(process.execPath, [CLI, 'config', 'check', path.join(ROOT, f)]);
    assert.match(stdout, /OK/, f);
  }
  const usage = spawnSync(process.execPath, [CLI, 'nonsense'], { encoding: 'utf8' });
  assert.is(usage.status, 2);
  const invalid = spawnSync(process.execPath, [CLI, 'serve', '--config', path.join(dir, 'bad.yaml')], { encoding: 'utf8' });
  assert.is(invalid.status, 1, 'an invalid config never starts');
  assert.match(invalid.stdout, /invalid config: not starting/);
});

test('dig as the client, UDP and TCP', async () => {
  needTool('dig');
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
  const dig = async (...args: string[]) =>
    (await run('dig', ['@127.0.0.1', '-p', String(d.port), '+tries=1', '+time=2', ...args])).stdout;
  assert.match(await dig('-b', '127.0.0.10', 'www.facebook.com'), /status: NXDOMAIN/);
  assert.match(await dig('-b', '127.0.0.10', '+tcp', 'www.facebook.com', 'AAAA'), /status: NXDOMAIN/);
  assert.match(await dig('-b', '127.0.0.20', 'www.facebook.com'), /status: NOERROR[\s\S]*192\.0\.2\.1/);
  assert.match(await dig('-b', '127.0.0.20', '+tcp', '+dnssec', 'example.org'), /status: NOERROR/);
  assert.match(await dig('-b', '127.0.0.99', 'example.org'), /status: REFUSED/);
  await d.stop();
  await up.close();
});

test.run();
