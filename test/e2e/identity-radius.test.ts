/**
 * End-to-end: RADIUS accounting from FreeRADIUS's radclient (a real, independent implementation) to
 * the real daemon on loopback. 127.0.0.41 is in the students' network (facebook blocked); j.smith's
 * Filter-Id says staff (facebook allowed), so the answer shows whose policy applied.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { RCODE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { udpBlast, udpQuery } from '../helpers/dns-client.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { radclientAcct } from '../helpers/radclient.js';
import { hostilePacket } from '../helpers/radius-packets.js';
import { until } from '../helpers/wait.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const SECRET = 'radius-test-secret';
const START =
  'Acct-Status-Type = Start, User-Name = "j.smith", Framed-IP-Address = 127.0.0.41, Filter-Id = "staff", Acct-Session-Id = "s-1"';
const STOP = 'Acct-Status-Type = Stop, User-Name = "j.smith", Framed-IP-Address = 127.0.0.41, Acct-Session-Id = "s-1"';

function config(upPort: number, nas = '127.0.0.1'): string {
  return testConfig({
    upstreams: [upPort],
    server: '  listen: ["127.0.0.1:0", "[::1]:0"]\n  allowed_clients: [127.0.0.0/8, "::1/128"]',
    categories: '  facebook: [facebook.txt]',
    groups:
      '  staff: { block: [] }\n  students: { clients: [127.0.0.40/29, "::1/128"], block: [facebook] }\n  default: { block: [facebook] }',
    extra: `identity:
  radius_accounting:
    listen: ["127.0.0.1:0"]
    clients: [{ address: ${nas}, secret_file: radius-secret }]
  group_attribute: filter-id`,
  });
}

const FILES = { 'facebook.txt': 'facebook.com\n', 'radius-secret': `${SECRET}\n` };

async function withDaemon(fn: (d: DaemonProcess, radiusPort: number, up: FakeUpstream) => Promise<void>): Promise<void> {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const d = await startDaemon(config(up.port), FILES, {
    beforeStart: (dir) => chmodSync(path.join(dir, 'radius-secret'), 0o600),
  });
  try {
    const listening = d.logs.find((l) => l.msg === 'webfilter listening')!;
    const radiusPort = Number(
      String((listening.radius as string[])[0])
        .split(':')
        .pop(),
    );
    await fn(d, radiusPort, up);
  } finally {
    assert.is((await d.stop()).code, 0);
    await up.close();
  }
}

/** The rcode of facebook.com asked from an address (IPv6 goes to the daemon's [::1] listener). */
async function facebook(d: DaemonProcess, from: string): Promise<number> {
  const v6 = from.includes(':');
  const port = v6 ? Number(d.addresses[1].split(':').pop()) : d.port;
  const r = await udpQuery(port, query('facebook.com'), { localAddress: from, host: v6 ? '::1' : '127.0.0.1' });
  assert.ok(r, `no DNS answer for ${from}`);
  return header(r!).rcode;
}

async function metric(d: DaemonProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://${d.metrics}/metrics`)).text();
  return sampleValue(parseExposition(text), name, labels);
}

test('Start (radclient): the user group decides for the address; Stop gives it back to the address group', async () => {
  await withDaemon(async (d, radius) => {
    assert.is(await facebook(d, '127.0.0.41'), RCODE.NXDOMAIN, 'students: blocked');
    const started = await radclientAcct(radius, SECRET, START);
    assert.ok(started.answered, `radclient accepted our Accounting-Response: ${started.stdout} ${started.stderr}`);
    await until(async () => (await facebook(d, '127.0.0.41')) === RCODE.NOERROR, 'staff policy for 127.0.0.41');
    assert.is(await facebook(d, '127.0.0.42'), RCODE.NXDOMAIN, 'the neighbour is still a student');
    assert.is(await metric(d, 'webfilter_identity_mappings', { source: 'radius' }), 1);
    assert.ok((await radclientAcct(radius, SECRET, STOP)).answered);
    await until(async () => (await facebook(d, '127.0.0.41')) === RCODE.NXDOMAIN, 'students policy again');
    assert.is(await metric(d, 'webfilter_identity_mappings', { source: 'radius' }), 0);
  });
});

test('IPv6: a Framed-IPv6-Prefix maps every address in it', async () => {
  await withDaemon(async (d, radius) => {
    assert.is(await facebook(d, '::1'), RCODE.NXDOMAIN);
    const r = await radclientAcct(
      radius,
      SECRET,
      'Acct-Status-Type = Start, User-Name = "j.smith", Framed-IPv6-Prefix = ::/64, Filter-Id = "staff"',
    );
    assert.ok(r.answered);
    await until(async () => (await facebook(d, '::1')) === RCODE.NOERROR, 'staff policy for ::1');
  });
});

test('a wrong secret gets no reply, is counted, and maps nobody; an unconfigured NAS is ignored', async () => {
  await withDaemon(async (d, radius, up) => {
    const wrong = await radclientAcct(radius, 'not-the-secret', START, { retries: 0, timeout: 0.5 });
    assert.not.ok(wrong.answered, 'no reply to a wrong secret');
    await until(
      async () => (await metric(d, 'webfilter_radius_packets_total', { outcome: 'bad_authenticator' })) === 1,
      'counted',
    );
    assert.is(await facebook(d, '127.0.0.41'), RCODE.NXDOMAIN, 'no mapping');
    // Reload with the NAS moved to 127.0.0.2: radclient (from 127.0.0.1) is no longer a client.
    writeFileSync(d.configFile, config(up.port, '127.0.0.2'));
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'reloaded');
    const ignored = await radclientAcct(radius, SECRET, START, { retries: 0, timeout: 0.5 });
    assert.not.ok(ignored.answered, 'an unconfigured NAS gets no reply');
    await until(async () => (await metric(d, 'webfilter_radius_packets_total', { outcome: 'unknown_client' })) === 1, 'counted');
    assert.is(await facebook(d, '127.0.0.41'), RCODE.NXDOMAIN, 'no mapping');
    assert.is(await metric(d, 'webfilter_radius_packets_total', { outcome: 'accepted' }), 0);
  });
});

test('10,000 fuzzed RADIUS packets from a configured NAS: every one handled, DNS answers throughout', async () => {
  await withDaemon(async (d, radius) => {
    const packets = fc.sample(hostilePacket(SECRET), { seed: 42, numRuns: 10_000 });
    for (let i = 0; i < packets.length; i += 1000) {
      await udpBlast(radius, packets.slice(i, i + 1000));
      assert.ok(await udpQuery(d.port, query('example.org'), { timeoutMs: 2000 }), `DNS answered after ${i + 1000} packets`);
    }
    // A flood overflows the socket's receive buffer: the kernel drops what the listener cannot take
    // (counted in /proc/net/udp). Every packet is either handled by the daemon or dropped there.
    const outcomes = ['accepted', 'malformed', 'bad_authenticator', 'not_accounting', 'queue_full', 'unknown_client'];
    let handled = 0;
    await until(async () => {
      handled = 0;
      for (const o of outcomes) handled += await metric(d, 'webfilter_radius_packets_total', { outcome: o });
      return handled + kernelDrops(radius) === 10_000;
    }, 'every packet handled or dropped by the kernel');
    assert.ok(handled >= 1000, `${handled} packets reached the daemon`);
    assert.ok((await metric(d, 'webfilter_radius_packets_total', { outcome: 'accepted' })) > 0, 'the valid ones were accepted');
    assert.ok((await metric(d, 'webfilter_radius_packets_total', { outcome: 'malformed' })) > 0, 'the broken ones were not');
    assert.not.ok(
      d.logs.some((l) => l.msg === 'RADIUS packet handling failed (packet dropped)'),
      'no codec errors',
    );
  });
});

/** Datagrams the kernel dropped on the IPv4 UDP socket bound to this port (/proc/net/udp "drops"). */
function kernelDrops(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const line = readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .find((l) => l.trim().split(/\s+/)[1]?.endsWith(hex));
  assert.ok(line, `no UDP socket on port ${port} in /proc/net/udp`);
  return Number(line!.trim().split(/\s+/).pop());
}

test.run();
