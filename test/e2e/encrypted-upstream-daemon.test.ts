/**
 * The real daemon forwarding over DNS over TLS and DNS over HTTPS to Debian's unbound (test CA made by
 * openssl, trusted through upstream.tls_ca): answers flow, a wrong certificate name is SERVFAIL and
 * counted, failover moves from a refused encrypted upstream to a plain one, the daemon reconnects
 * after unbound restarts, and `webfilter status` shows each upstream's transport and health.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import { startDaemon, tempDir, testConfig, type DaemonProcess } from '../helpers/daemon-process.js';
import { udpQuery } from '../helpers/dns-client.js';
import { parseExposition, sampleValue, type Sample } from '../helpers/prometheus-text.js';
import { until } from '../helpers/wait.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { startUnbound, type Unbound } from '../helpers/unbound.js';
import { header, query } from '../helpers/wire-builder.js';
import { freePort } from '../helpers/free-port.js';

let ca: TestCa;
let cert: { certFile: string; keyFile: string };
let unbound: Unbound;
const ZONE = ['local-zone: "dot.example." redirect', 'local-data: "dot.example. 60 IN A 192.0.2.7"'];
const start = (ports?: { port: number; tlsPort?: number; httpsPort?: number }) =>
  startUnbound({ tls: { ...cert, dot: true, doh: true }, extra: ZONE, ports });

test.before(async () => {
  ca = makeTestCa();
  cert = ca.issue('dns.test', { dns: ['dns.test'], ip: ['127.0.0.1'] });
  unbound = await start();
});
test.after(async () => {
  await unbound.stop();
  ca.remove();
});

/** A daemon with these upstreams; its metrics on a fixed port, where `webfilter status` looks. */
async function daemonWith(servers: string[], strategy = 'failover'): Promise<DaemonProcess> {
  const yaml = testConfig({ upstreams: [], strategy, timeoutMs: 1500 })
    .replace(/servers: \[\]/, `servers: [${servers.map((s) => JSON.stringify(s)).join(', ')}]\n  tls_ca: ${ca.certFile}`)
    .replace('metrics: { listen: "127.0.0.1:0"', `metrics: { listen: "127.0.0.1:${await freePort()}"`);
  return startDaemon(yaml, { 'facebook.txt': 'facebook.com\n', 'instagram.txt': 'instagram.com\n' });
}

async function ask(d: DaemonProcess, name: string): Promise<Buffer> {
  return (await udpQuery(d.port, query(name, TYPE.A), { localAddress: '127.0.0.20' }))!;
}

async function metrics(d: DaemonProcess) {
  return parseExposition(await (await fetch(`http://${d.metrics}/metrics`)).text());
}

test('answers come over DoT and DoH; the daemon reconnects after unbound restarts; status names each transport', async () => {
  const dot = `tls://127.0.0.1:${unbound.tlsPort}`;
  const doh = `https://127.0.0.1:${unbound.httpsPort}/dns-query`;
  const d = await daemonWith([`${dot}#dns.test`, `${doh}#dns.test`], 'parallel');
  try {
    const r = await ask(d, 'www.dot.example');
    assert.is(header(r).rcode, RCODE.NOERROR);
    assert.ok(r.includes(Buffer.from([192, 0, 2, 7])));
    // Parallel: both were asked; wait until both have answered (the slower one after the client got its answer).
    const ok = (m: Sample[], upstream: string) =>
      sampleValue(m, 'webfilter_upstream_requests_total', { upstream, outcome: 'ok' });
    const m: Sample[] = await until(async () => {
      const x = await metrics(d);
      return ok(x, dot) >= 1 && ok(x, doh) >= 1 ? x : null;
    }, 'an answer from each upstream');
    assert.is(sampleValue(m, 'webfilter_upstream_healthy', { upstream: dot, transport: 'tls' }), 1);
    assert.is(sampleValue(m, 'webfilter_upstream_healthy', { upstream: doh, transport: 'https' }), 1);
    assert.is(sampleValue(m, 'webfilter_upstream_connections', { upstream: dot }), 1);
    assert.is(sampleValue(m, 'webfilter_upstream_connects_total', { upstream: dot, result: 'new' }), 1);
    // `status` asks /readyz with a 2 s limit: on a busy machine the first try can miss it.
    const status = await until(async () => {
      const r = await cli(['status', '--config', d.configFile]);
      return r.stdout.includes('upstream:') ? r : null;
    }, 'status with upstream lines');
    assert.match(status.stdout, new RegExp(`upstream: +${dot.replace(/[.]/g, '\\.')} \\[DNS over TLS\\] healthy`));
    assert.match(status.stdout, /\[DNS over HTTPS\] healthy/);

    const ports = { port: unbound.port, tlsPort: unbound.tlsPort, httpsPort: unbound.httpsPort };
    await unbound.stop();
    assert.is(header(await ask(d, 'down.dot.example')).rcode, RCODE.SERVFAIL, 'no upstream while unbound is down');
    unbound = await start(ports);
    // Each upstream reconnects (after its back-off) and answers again.
    let i = 0;
    await until(async () => {
      const rcode = header(await ask(d, `back${i++}.dot.example`)).rcode;
      const x = await metrics(d);
      const again = (u: string) =>
        sampleValue(x, 'webfilter_upstream_connects_total', { upstream: u, result: 'new' }) +
          sampleValue(x, 'webfilter_upstream_connects_total', { upstream: u, result: 'resumed' }) >=
        2;
      return rcode === RCODE.NOERROR && again(dot) && again(doh);
    }, 'answers over both transports again after the restart');
  } finally {
    await d.stop();
  }
});

test('a certificate for another name is refused: SERVFAIL, counted; failover moves on to a plain upstream', async () => {
  const wrong = `tls://127.0.0.1:${unbound.tlsPort}`;
  const d = await daemonWith([`${wrong}#other.test`]);
  try {
    assert.is(header(await ask(d, 'www.dot.example')).rcode, RCODE.SERVFAIL);
    const m = await metrics(d);
    assert.ok(sampleValue(m, 'webfilter_upstream_requests_total', { upstream: wrong, outcome: 'tls' }) >= 1);
    assert.ok(sampleValue(m, 'webfilter_upstream_connects_total', { upstream: wrong, result: 'tls_refused' }) >= 1);
    assert.is(sampleValue(m, 'webfilter_upstream_healthy', { upstream: wrong }), 0);
    const status = await until(async () => {
      const r = await cli(['status', '--config', d.configFile]);
      return r.stdout.includes('upstream:') ? r : null;
    }, 'status with upstream lines');
    assert.match(status.stdout, /\[DNS over TLS\] failing \(last: tls\) — DoT to .*TLS refused/, status.stdout + status.stderr);
  } finally {
    await d.stop();
  }
  const mixed = await daemonWith([`${wrong}#other.test`, `127.0.0.1:${unbound.port}`]);
  try {
    const r = await ask(mixed, 'www.dot.example');
    assert.is(header(r).rcode, RCODE.NOERROR, 'answered by the plain upstream after the DoT one was refused');
    const m = await metrics(mixed);
    assert.ok(sampleValue(m, 'webfilter_upstream_requests_total', { upstream: `127.0.0.1:${unbound.port}`, outcome: 'ok' }) >= 1);
  } finally {
    await mixed.stop();
  }
});

test('upstream.servers: encrypted entries are checked at load', async () => {
  const dir = tempDir({
    'c.yaml': 'upstream: { servers: ["tls://dns.example:853", "https://1.1.1.3/", "ftp://1.1.1.3"] }\ngroups: { default: {} }\n',
  });
  const r = await cli(['config', 'check', `${dir}/c.yaml`]);
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    /upstream\.servers\[0\]: "tls:\/\/dns\.example:853": give the server's IP address and its certificate name after #, e\.g\. tls:\/\/1\.1\.1\.3:853#dns\.example/,
  );
  assert.match(r.stderr, /upstream\.servers\[1\]: .*give the DoH path, usually \/dns-query/);
  assert.match(r.stderr, /upstream\.servers\[2\]: "ftp:\/\/1\.1\.1\.3": ftp:\/\/ is not an upstream transport/);
});

test.run();
