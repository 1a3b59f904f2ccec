/**
 * End-to-end: the console, the metrics listener and the evidence store are optional parts. When one
 * cannot start, DNS serves anyway, /readyz, `webfilter status` (exit 1) and
 * webfilter_component_up{component} say so, and it is retried: a freed port is picked up without a
 * restart. `status` exits 0 healthy, 1 degraded, 2 not running.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RCODE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { udpQuery } from '../helpers/dns-client.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { freePort } from '../helpers/free-port.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { until } from '../helpers/wait.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** A TCP port held by something else, until released. */
async function occupied(): Promise<{ port: number; release(): Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    release: () => new Promise((r) => server.close(() => r())),
  };
}

const componentUp = async (metrics: string, component: string) =>
  sampleValue(parseExposition((await get(`http://${metrics}/metrics`)).body), 'webfilter_component_up', { component });
const status = (d: DaemonProcess) => cli(['status', '--json', '--config', d.configFile]);
const answers = async (d: DaemonProcess) =>
  header((await udpQuery(d.port, query('www.example.org'), { localAddress: '127.0.0.10' }))!).rcode === RCODE.NOERROR;

test('the console’s port is taken: DNS serves, status says degraded (exit 1); once freed the console comes up (exit 0); stopped: exit 2', async () => {
  const up = await startFakeUpstream(answer);
  const blocker = await occupied();
  try {
    const d = await startDaemon(
      testConfig({ upstreams: [up.port], extra: `console: { enabled: true, listen: "127.0.0.1:${blocker.port}" }` }),
      LISTS,
    );
    try {
      assert.ok(await answers(d), 'DNS answers without the console');
      assert.is(d.logs.find((l) => l.msg === 'webfilter listening')!.console, null);
      assert.ok(
        d.logs.some((l) => l.component === 'console' && /console is down/.test(String(l.msg))),
        'logged loudly',
      );
      const ready = await until(async () => {
        const r = await get(`http://${d.metrics}/readyz`);
        return r.status === 200 && JSON.parse(r.body).status === 'degraded' ? JSON.parse(r.body) : null;
      }, '/readyz to say degraded');
      assert.match(ready.degraded.join(' '), /console: .*EADDRINUSE/);
      assert.is(ready.components.console.state, 'down');
      assert.is(await componentUp(d.metrics!, 'console'), 0);
      await until(async () => (await componentUp(d.metrics!, 'evidence')) === 1, 'the evidence store up');
      const degraded = await status(d);
      assert.is(degraded.code, 1, degraded.stdout + degraded.stderr);
      assert.is(JSON.parse(degraded.stdout).state, 'degraded');
      assert.match(JSON.parse(degraded.stdout).problems.join(' '), /console: .*EADDRINUSE/);

      await blocker.release();
      await d.waitForLog((l) => l.msg === 'console is up again', 15_000);
      assert.is((await get(`http://127.0.0.1:${blocker.port}/login`)).status, 200, 'the console serves on the freed port');
      assert.is(await componentUp(d.metrics!, 'console'), 1);
      const healthy = await until(async () => {
        const r = await status(d);
        return r.code === 0 ? r : null;
      }, 'status to say healthy');
      assert.is(JSON.parse(healthy.stdout).state, 'healthy');
    } finally {
      await d.stop();
    }
    const stopped = await status(d);
    assert.is(stopped.code, 2, stopped.stdout + stopped.stderr);
    assert.is(JSON.parse(stopped.stdout).state, 'not running');
  } finally {
    await up.close();
    await blocker.release().catch(() => undefined);
  }
});

test('the metrics port is taken: DNS serves; status learns it from the heartbeat (exit 1); once freed, /metrics answers', async () => {
  const up = await startFakeUpstream(answer);
  const blocker = await occupied();
  try {
    const d = await startDaemon(
      testConfig({ upstreams: [up.port] }).replace(
        'metrics: { listen: "127.0.0.1:0" }',
        `metrics: { listen: "127.0.0.1:${blocker.port}" }`,
      ),
      LISTS,
    );
    try {
      assert.ok(await answers(d));
      assert.is(d.metrics, null);
      const r = await until(async () => {
        const s = await status(d);
        return s.code === 1 && JSON.parse(s.stdout).components.metrics?.state === 'down' ? s : null;
      }, 'status to report the metrics listener down');
      assert.match(JSON.parse(r.stdout).problems.join(' '), /metrics: .*EADDRINUSE/);
      await blocker.release();
      await d.waitForLog((l) => l.msg === 'metrics is up again', 15_000);
      assert.is((await get(`http://127.0.0.1:${blocker.port}/healthz`)).status, 200);
    } finally {
      await d.stop();
    }
  } finally {
    await up.close();
    await blocker.release().catch(() => undefined);
  }
});

test('the database directory cannot be created: DNS serves; the evidence store is down in /readyz and status (exit 1)', async () => {
  const up = await startFakeUpstream(answer);
  // No heartbeat can be written: status finds the daemon by its metrics listener, at a known port.
  const metricsPort = await freePort();
  try {
    const d = await startDaemon(
      testConfig({ upstreams: [up.port] })
        .replace('database: { path: webfilter.db', 'database: { path: not-a-dir/webfilter.db')
        .replace('metrics: { listen: "127.0.0.1:0" }', `metrics: { listen: "127.0.0.1:${metricsPort}" }`),
      { ...LISTS, 'not-a-dir': 'a file where a directory should be\n' },
    );
    try {
      assert.ok(await answers(d));
      const ready = await until(async () => {
        const body = JSON.parse((await get(`http://${d.metrics}/readyz`)).body);
        return body.components.evidence?.state === 'down' ? body : null;
      }, 'the evidence store down in /readyz');
      assert.match(ready.components.evidence.detail, /not-a-dir/);
      assert.is(await componentUp(d.metrics!, 'evidence'), 0);
      const s = await status(d);
      assert.is(s.code, 1, s.stdout + s.stderr);
      assert.match(JSON.parse(s.stdout).problems.join(' '), /evidence: /);
    } finally {
      await d.stop();
    }
  } finally {
    await up.close();
  }
});

test('a console key that cannot be read at start is read again at the next try', async () => {
  const { makeTestCa } = await import('../helpers/test-ca.js');
  const ca = makeTestCa();
  const up = await startFakeUpstream(answer);
  const port = await freePort();
  try {
    const d = await startDaemon(
      testConfig({
        upstreams: [up.port],
        extra: `console: { enabled: true, listen: "127.0.0.1:${port}", tls: { cert: console.crt, key: console.key } }`,
      }),
      LISTS,
    );
    try {
      const issued = ca.issue('console', { ip: ['127.0.0.1'] });
      assert.ok(await answers(d));
      await until(
        () => d.logs.some((l) => l.component === 'console' && /cannot read .*console\.crt/.test(String(l.error))),
        'the console down',
      );
      writeFileSync(path.join(d.dir, 'console.crt'), issued.cert);
      writeFileSync(path.join(d.dir, 'console.key'), issued.key);
      const upAgain = await d.waitForLog((l) => l.msg === 'console is up again', 15_000);
      assert.match(String(upAgain.detail), /^https:\/\//);
    } finally {
      await d.stop();
    }
  } finally {
    await up.close();
    ca.remove();
  }
});

test.run();
