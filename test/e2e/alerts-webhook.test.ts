/**
 * End-to-end: the real daemon's alerts to a webhook (a real HTTP server on loopback) in the Teams,
 * Slack and JSON shapes, with a failing answer retried; and `webfilter alerts test`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { TYPE } from '../../src/dns/constants.js';
import { startDaemon, tempDir, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { query, reply, rr } from '../helpers/wire-builder.js';
import { cli } from '../helpers/cli.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { startSmtpServer } from '../helpers/smtp-server.js';
import { freePort } from '../helpers/free-port.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { until } from '../helpers/wait.js';

const STUDENT = { localAddress: '127.0.0.10' };
const FILES = { ...LISTS, 'vpn.txt': 'nordvpn.com\n' };
const LINK = 'https://filter.school.example/device?name=Y9-LT-07';
const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });

function config(upstream: number, alerts: string): string {
  return testConfig({
    upstreams: [upstream],
    database: 'flush_ms: 50',
    extra: `circumvention:
  vpn_proxy: { lists: [vpn.txt] }
clients:
  names: { "127.0.0.10": Y9-LT-07 }
console: { public_url: "https://filter.school.example" }
alerts:
${alerts}`,
  });
}

async function metric(d: DaemonProcess, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://${d.metrics}/metrics`)).text();
  return sampleValue(parseExposition(text), 'webfilter_alerts_sent_total', labels);
}

/** Runs the daemon with a webhook of `format`, makes one VPN signal, returns the accepted request's body. */
async function oneAlert(format: string, statuses: number[] = []) {
  const hook = await startWebhookReceiver(statuses);
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(
    config(up.port, `  webhook: { url_file: hook-url, format: ${format} }\n  immediate: [vpn-proxy]\n  group_seconds: 0`),
    { ...FILES, 'hook-url': `${hook.url}\n` },
  );
  try {
    await udpQuery(d.port, query('api.nordvpn.com', TYPE.A), STUDENT);
    const [req] = await hook.waitForAccepted(1, 30_000);
    assert.is(req.method, 'POST');
    assert.is(req.headers['content-type'], 'application/json');
    assert.is(req.path, '/hook/secret-token');
    await until(async () => (await metric(d, { channel: 'webhook', result: 'sent' })) >= 1, 'the delivery counted');
    const counts = {
      sent: await metric(d, { channel: 'webhook', result: 'sent' }),
      failed: await metric(d, { channel: 'webhook', result: 'failed' }),
    };
    assert.not.match(JSON.stringify(d.logs), 'secret-token', 'a url_file webhook URL is never logged');
    return { body: req.body as any, requests: hook.requests, counts };
  } finally {
    await d.stop();
    await up.close();
    await hook.close();
  }
}

test('teams: an Adaptive Card with the facts and a button to the device; a 500 is retried', async () => {
  const { body, requests, counts } = await oneAlert('teams', [500]);
  assert.equal(
    requests.map((r) => r.status),
    [500, 200],
  );
  assert.equal(counts, { sent: 1, failed: 1 });
  assert.is(body.type, 'message');
  const att = body.attachments[0];
  assert.is(att.contentType, 'application/vnd.microsoft.card.adaptive');
  assert.is(att.content.type, 'AdaptiveCard');
  const facts = att.content.body.filter((b: any) => b.type === 'FactSet').flatMap((b: any) => b.facts);
  const fact = (t: string) => facts.find((f: any) => f.title === t)?.value;
  assert.is(fact('Device'), 'Y9-LT-07');
  assert.is(fact('Address'), '127.0.0.10');
  assert.is(fact('Group'), 'students');
  assert.match(fact('What it means'), 'VPN, proxy or anonymiser');
  assert.equal(att.content.actions, [{ type: 'Action.OpenUrl', title: 'Open Y9-LT-07 in the review console', url: LINK }]);
});

test('slack: text for the notification, blocks with the facts and a link', async () => {
  const { body } = await oneAlert('slack');
  assert.match(body.text, 'vpn-proxy by Y9-LT-07');
  assert.is(body.blocks[0].type, 'header');
  const all = JSON.stringify(body.blocks);
  assert.match(all, '*Device:* Y9-LT-07');
  assert.match(all, `<${LINK}|Open Y9-LT-07 in the review console>`);
});

test('json: type, subject, text, link and the structured signal', async () => {
  const { body } = await oneAlert('json');
  assert.is(body.type, 'signals');
  assert.is(body.link, LINK);
  assert.match(body.text, 'Y9-LT-07');
  assert.is(body.data.device, 'Y9-LT-07');
  assert.is(body.data.group, 'students');
  assert.is(body.data.signals[0].kind, 'vpn-proxy');
  assert.is(body.data.signals[0].severity, 'high');
  assert.is(body.data.signals[0].qname, 'api.nordvpn.com');
});

test('webfilter alerts test: sends on every channel and reports each (exit 1 when one fails)', async () => {
  const hook = await startWebhookReceiver();
  const smtp = await startSmtpServer();
  try {
    const run = (smtpPort: number) => {
      const dir = tempDir({
        ...FILES,
        'webfilter.yaml': config(
          53,
          `  email: { smtp: "smtp://127.0.0.1:${smtpPort}", require_tls: false, from: "webfilter@school.example", to: ["ict@school.example"] }
  webhook: { url: "${hook.url}", format: slack }`,
        ),
      });
      // Not spawnSync: the webhook receiver runs in this process and must answer meanwhile.
      return cli(['alerts', 'test', '--config', path.join(dir, 'webfilter.yaml')]);
    };
    const ok = await run(smtp.port);
    assert.is(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /email +smtp:\/\/127\.0\.0\.1:\d+ → ict@school\.example: sent/);
    assert.match(ok.stdout, /webhook +http:\/\/127\.0\.0\.1:\d+\/hook\/secret-token \(slack\): sent/);
    assert.is(smtp.messages().length, 1);
    assert.match(smtp.messages()[0].subject, 'test message');
    assert.is(hook.accepted().length, 1);
    const down = await run(await freePort());
    assert.is(down.code, 1);
    assert.match(down.stdout, /email .*: FAILED — .*ECONNREFUSED/);
    assert.match(down.stdout, /webhook .*: sent/);
  } finally {
    await hook.close();
    await smtp.stop();
  }
});

test.run();
