/**
 * End-to-end: what one device can make the TCP listener hold (issue 14 points 11 and 12), against
 * the real daemon with unbound and Knot behind it serving a ~60 KB answer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig } from '../helpers/daemon-process.js';
import { dig, readPrinted } from '../helpers/dig.js';
import { tcpQuery } from '../helpers/dns-client.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { BIG_TXT_RECORDS, startResolverStack } from '../helpers/resolver-stack.js';
import { closedWithin, connectFrom } from '../helpers/tcp-socket.js';
import { query } from '../helpers/wire-builder.js';

const LISTS = { 'facebook.txt': 'facebook.com\n', 'instagram.txt': 'instagram.com\n' };
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const frame = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const withServer = (config: string, keys: string) => config.replace('  allowed_clients:', `${keys}\n  allowed_clients:`);

async function rejected(metrics: string | null, reason: string): Promise<number> {
  const text = await (await fetch(`http://${metrics}/metrics`)).text();
  return sampleValue(parseExposition(text), 'webfilter_tcp_rejected_total', { reason }) ?? NaN;
}

test('11. a client that pipelines queries for a 60 KB answer on 4 connections and never reads: RSS growth < 32 MB over 30 s', async () => {
  const stack = await startResolverStack({});
  const d = await startDaemon(testConfig({ upstreams: [stack.unbound.port], timeoutMs: 2000 }), LISTS);
  const attackers = new Set<net.Socket>();
  let stopped = false;
  try {
    const big = query('big.example', TYPE.TXT, { edns: {} });
    // Warm up with the same answers read normally (4 clients × 80): the working set of serving big
    // answers over TCP, which is not what this test is about.
    for (let round = 0; round < 2; round++) {
      const replies = await Promise.all(
        Array.from({ length: 4 }, () =>
          tcpQuery(
            d.port,
            Array.from({ length: 40 }, () => big),
            { localAddress: '127.0.0.10', timeoutMs: 20_000 },
          ),
        ),
      );
      assert.ok(replies.every((r) => r.length === 40));
    }
    const baseline = rssMb(d.child.pid!);
    // The attacker: 4 connections kept open (a new one whenever one is closed), each sending 200
    // queries every 100 ms and reading nothing.
    const batch = Buffer.concat(Array.from({ length: 200 }, () => frame(big)));
    const attack = () => {
      const s = net.connect({ port: d.port, host: '127.0.0.1', localAddress: '127.0.0.10' });
      s.pause();
      s.on('error', () => {});
      attackers.add(s);
      const t = setInterval(() => s.writable && s.write(batch), 100);
      s.on('close', () => {
        clearInterval(t);
        attackers.delete(s);
        if (!stopped) attack();
      });
    };
    for (let i = 0; i < 4; i++) attack();
    let peak = baseline;
    const samples: number[] = [];
    for (let t = 0; t < 30; t++) {
      await sleep(1000);
      const r = rssMb(d.child.pid!);
      samples.push(Math.round(r));
      peak = Math.max(peak, r);
    }
    assert.ok(peak - baseline < 32, `RSS ${baseline.toFixed(0)} → peak ${peak.toFixed(0)} MB: ${samples.join(' ')}`);
    // The daemon cut the connections that did not read (idle timeout, 10 s), and still answers.
    assert.ok((await rejected(d.metrics, 'slow_reader')) >= 4);
    assert.is(readPrinted(await dig(d.port, '+tcp', '-b', '127.0.0.20', 'www.example')).status, 'NOERROR');
    const whole = await tcpQuery(d.port, [big], { localAddress: '127.0.0.20', timeoutMs: 5000 });
    assert.is(whole[0].readUInt16BE(6), BIG_TXT_RECORDS);
  } finally {
    stopped = true;
    for (const s of attackers) s.destroy();
    await d.stop();
    await stack.stop();
  }
});

test('12. 1,000 connections from outside allowed_clients are closed at once (counted); an allowed client is answered', async () => {
  const stack = await startResolverStack({});
  const d = await startDaemon(testConfig({ upstreams: [stack.unbound.port], timeoutMs: 2000 }), LISTS);
  const outsiders: net.Socket[] = [];
  try {
    // 100 addresses outside allowed_clients, 10 connections each: the default max_connections (1000).
    let closed = 0;
    await Promise.all(
      Array.from(
        { length: 1000 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const s = net.connect({ port: d.port, host: '127.0.0.1', localAddress: `127.0.1.${1 + (i % 100)}` });
            outsiders.push(s);
            s.on('error', () => {});
            s.on('connect', () => {
              s.write(frame(query('www.example', TYPE.A)));
              resolve();
            });
            s.on('close', () => {
              closed++;
              resolve();
            });
            s.resume();
          }),
      ),
    );
    // All 1,000 have connected (or been closed already): an allowed client's TCP query, right now.
    const r = readPrinted(await dig(d.port, '+tcp', '-b', '127.0.0.10', 'www.example'));
    assert.is(r.status, 'NOERROR', r.text);
    for (let t = 0; closed < 1000 && t < 50; t++) await sleep(100);
    assert.is(closed, 1000, 'every outsider connection was closed by the daemon, at once');
    assert.ok((await rejected(d.metrics, 'not_allowed')) >= 1000);
    assert.is(await rejected(d.metrics, 'max_connections'), 0, 'outsiders never held a slot');
  } finally {
    for (const s of outsiders) s.destroy();
    await d.stop();
    await stack.stop();
  }
});

test('per-client connection cap counts by server.rate_limit prefixes (/24 here); each refusal is counted', async () => {
  const stack = await startResolverStack({});
  const config = withServer(
    testConfig({ upstreams: [stack.unbound.port], timeoutMs: 2000 }),
    '  tcp: { max_connections_per_client: 2 }\n  rate_limit: { ipv4_prefix: 24 }',
  );
  const d = await startDaemon(config, LISTS);
  try {
    const a = await connectFrom(d.port, '127.0.0.10');
    const b = await connectFrom(d.port, '127.0.0.20');
    const c = await connectFrom(d.port, '127.0.0.30');
    assert.ok(await closedWithin(c, 2000), '127.0.0.30 is in the same /24 as the two before: closed');
    assert.is(await rejected(d.metrics, 'client_limit'), 1);
    a.destroy();
    assert.ok(await closedWithin(a, 1000));
    await sleep(100);
    const [answer] = await tcpQuery(d.port, [query('www.example', TYPE.A)], { localAddress: '127.0.0.30' });
    assert.ok(answer, 'a slot freed is a slot for the next device of the /24');
    b.destroy();
  } finally {
    await d.stop();
    await stack.stop();
  }
});

test.run();
