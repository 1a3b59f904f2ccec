/**
 * End-to-end with an injected clock: the daemon runs in this process (startDaemon with `now`), so
 * the test can move time across a break's end. Clients and the upstream are real sockets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { pino } from 'pino';
import { startDaemon } from '../../src/daemon/start.js';
import { RCODE } from '../../src/dns/constants.js';
import { inspectReply } from '../../src/dns/reply.js';
import { tempDir } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { header, query, questionEnd, reply, rr } from '../helpers/wire-builder.js';
import { cli } from '../helpers/cli.js';

test('a name answered and cached in a break is blocked at the first query after the break', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 3600)] }));
  const dir = tempDir({
    'fb.txt': 'facebook.com\n',
    'c.yaml': `
server: { listen: ["127.0.0.1:0"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${up.port}"], timeout_ms: 500 }
timezone: Europe/London
categories: { facebook: [fb.txt] }
schedules:
  breaks: { days: [mon, tue, wed, thu, fri], windows: ["10:40-11:00"] }
groups:
  staff: { clients: [127.0.0.10/32], block: [facebook], allow_during: { breaks: [facebook] } }
  default: { block: [facebook] }
database: { path: w.db }
metrics: { enabled: false }
log: { level: warn }
`,
  });
  let now = Date.parse('2026-11-23T10:50:00Z'); // Monday 10:50 in London (GMT)
  const d = await startDaemon({ configFile: path.join(dir, 'c.yaml'), log: pino({ level: 'warn' }), now: () => now });
  const port = Number(d.addresses[0].split(':').pop());
  const ask = async () => (await udpQuery(port, query('www.facebook.com'), { localAddress: '127.0.0.10' }))!;
  try {
    const inBreak = await ask();
    assert.is(header(inBreak).rcode, RCODE.NOERROR, 'allowed in the break');
    const ttl = inBreak.readUInt32BE(inspectReply(inBreak, questionEnd(inBreak)).ttlOffsets[0]);
    assert.ok(ttl <= 600 && ttl >= 590, `TTL ${ttl} s ends with the break (10 min left), not the upstream's 3600`);
    now = Date.parse('2026-11-23T10:59:59Z');
    assert.is(header(await ask()).rcode, RCODE.NOERROR, 'still the break (and now from the cache)');
    assert.is(up.received.length, 1, 'the second answer came from the cache');
    now = Date.parse('2026-11-23T11:00:00Z');
    assert.is(header(await ask()).rcode, RCODE.NXDOMAIN, 'blocked the moment the lesson starts, cached or not');
  } finally {
    await d.stop();
    await up.close();
  }
});

test('check --at shows which schedule window applied', async () => {
  const dir = tempDir({
    'fb.txt': 'facebook.com\n',
    'c.yaml': `
upstream: { servers: ["192.0.2.1"] }
timezone: Europe/London
categories: { facebook: [fb.txt] }
schedules:
  breaks: { days: [mon, tue, wed, thu, fri], windows: ["10:40-11:00"] }
groups:
  staff: { clients: [10.10.0.0/16], block: [facebook], allow_during: { breaks: [facebook] } }
  default: { block: [facebook] }
database: { path: w.db }
`,
  });
  const run = (at: string) =>
    cli(['--config', path.join(dir, 'c.yaml'), 'check', 'www.facebook.com', '--client', '10.10.1.5', '--at', at]);
  const inBreak = await run('2026-12-01 10:45');
  assert.match(inBreak.stdout, /schedule: +breaks \(10:40-11:00\) is running: allows facebook for staff/);
  assert.match(inBreak.stdout, /answer: +forwarded to the upstream resolvers/);
  const lesson = await run('2026-12-01 11:00');
  assert.not.match(lesson.stdout, /schedule:/);
  assert.match(lesson.stdout, /answer: +blocked — NXDOMAIN/);
});

test.run();
