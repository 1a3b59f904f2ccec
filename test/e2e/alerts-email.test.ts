/**
 * End-to-end: the real daemon's safeguarding alerts by e-mail, received by a real SMTP server
 * (Debian's aiosmtpd) on loopback.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { query, reply, rr } from '../helpers/wire-builder.js';
import { startSmtpServer, type SmtpMessage } from '../helpers/smtp-server.js';
import { freePort } from '../helpers/free-port.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { until } from '../helpers/wait.js';
import { cli } from '../helpers/cli.js';

const STUDENT = { localAddress: '127.0.0.10' };
const SIXTH = { localAddress: '127.0.0.20' };
const FILES = { ...LISTS, 'vpn.txt': 'nordvpn.com\nprotonvpn.com\n' };
const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });

function config(upstream: number, alerts: string, extraCircumvention = ''): string {
  return testConfig({
    upstreams: [upstream],
    database: 'flush_ms: 50',
    extra: `circumvention:
  vpn_proxy: { lists: [vpn.txt] }
${extraCircumvention}
clients:
  names: { "127.0.0.10": Y9-LT-07, "127.0.0.20": SF-PC-02 }
console: { public_url: "https://filter.school.example:8443/" }
alerts:
${alerts}`,
  });
}

const shots = process.env.WEBFILTER_SCREENSHOTS;

/** WEBFILTER_SCREENSHOTS=DIR: the received e-mail's HTML part in Chromium, under its headers (docs/alert-email.png). */
async function screenshotEmail(m: SmtpMessage, file: string): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 760, height: 900 } });
    const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    const head = `<div style="font:13px Arial;background:#f3f4f6;border-bottom:1px solid #ccc;padding:10px 16px"><b>From:</b> ${esc(m.from)}<br><b>To:</b> ${esc(m.to.join(', '))}<br><b>Subject:</b> ${esc(m.subject)}</div>`;
    await page.setContent(m.html.replace(/<body([^>]*)>/, `<body$1>${head}`));
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}

async function metric(d: DaemonProcess, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://${d.metrics}/metrics`)).text();
  return sampleValue(parseExposition(text), 'webfilter_alerts_sent_total', labels);
}

test('a VPN lookup by a named device: one e-mail within 60 s naming the device, kind and console link (default grouping)', async () => {
  const smtp = await startSmtpServer({ auth: { user: 'webfilter', pass: 'S3cret-smtp-pass' } });
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(
    config(
      up.port,
      `  email: { smtp: "smtp://127.0.0.1:${smtp.port}", url_file: smtp-url, require_tls: false, from: "webfilter@school.example", to: ["dsl@school.example"] }
  immediate: [vpn-proxy]`,
    ),
    { ...FILES, 'smtp-url': `smtp://webfilter:S3cret-smtp-pass@127.0.0.1:${smtp.port}\n` },
  );
  try {
    const sentAt = Date.now();
    await udpQuery(d.port, query('api.nordvpn.com', TYPE.A), STUDENT);
    const [m] = await smtp.waitForMessages(1, 60_000);
    const delay = m.receivedAt - sentAt;
    console.log(`alert delay (signal to e-mail received, group_seconds 20): ${(delay / 1000).toFixed(1)} s`);
    assert.ok(delay < 60_000, `delay ${delay} ms`);
    assert.equal(m.to, ['dsl@school.example']);
    assert.is(m.from, 'webfilter@school.example');
    assert.is(m.login, 'webfilter', 'the credentials from url_file were used');
    assert.match(m.subject, /vpn-proxy by Y9-LT-07 \(students\)/);
    for (const part of [m.text, m.html]) {
      assert.match(part, 'Y9-LT-07');
      assert.match(part, '127.0.0.10');
      assert.match(part, 'students');
      assert.match(part, 'vpn-proxy');
      assert.match(part, 'lookup of a VPN, proxy or anonymiser service', 'the registry description');
      assert.match(part, 'api.nordvpn.com');
      assert.match(part, 'https://filter.school.example:8443/device?name=Y9-LT-07');
    }
    await until(async () => (await metric(d, { channel: 'email', result: 'sent' })) === 1, 'the e-mail counted as sent');
    assert.is(await metric(d, { channel: 'email', result: 'failed' }), 0);
    assert.not.match(JSON.stringify(d.logs), 'S3cret-smtp-pass', 'the password is never logged');
    assert.is(smtp.messages().length, 1);
    if (shots) await screenshotEmail(m, path.join(shots, 'alert-email.png'));
  } finally {
    await d.stop();
    await up.close();
    await smtp.stop();
  }
});

test('50 tunnel names from one device in a minute: one message', async () => {
  const smtp = await startSmtpServer();
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(
    config(
      up.port,
      `  email: { smtp: "smtp://127.0.0.1:${smtp.port}", require_tls: false, from: "webfilter@school.example", to: ["dsl@school.example"] }
  immediate: [tunnel, vpn-proxy]
  group_seconds: 1`,
      '  tunnel: { unique_subdomains: 10, min_encoded_length: 20 }',
    ),
    FILES,
  );
  try {
    // 50 unique encoded names under one domain over about five seconds: the first message goes after
    // one second; the rest of the burst is the same kind from the same device.
    for (let i = 0; i < 50; i++) {
      const label = Buffer.from(`chunk-${i}-of-the-exfiltrated-file`).toString('hex').slice(0, 40);
      await udpQuery(d.port, query(`${label}.t.tunnel.example`, TYPE.A), STUDENT);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A marker from another device, after the burst: messages go out in order, so a second message
    // for the tunnel would arrive before the marker's.
    await udpQuery(d.port, query('protonvpn.com', TYPE.A), SIXTH);
    const msgs = await smtp.waitForMessages(2, 30_000);
    assert.match(msgs[0].subject, /tunnel by Y9-LT-07/);
    assert.match(msgs[0].text, 'DNS tunnelling');
    assert.match(msgs[1].subject, /vpn-proxy by SF-PC-02/);
    assert.is(msgs.length, 2, msgs.map((m) => m.subject).join('\n'));
  } finally {
    await d.stop();
    await up.close();
    await smtp.stop();
  }
});

test('SMTP down, then up: the alerts arrive after retries, none lost, failures counted', async () => {
  const port = await freePort();
  const up = await startFakeUpstream(answer);
  const d = await startDaemon(
    config(
      up.port,
      `  email: { smtp: "smtp://127.0.0.1:${port}", require_tls: false, from: "webfilter@school.example", to: ["dsl@school.example"] }
  immediate: [high]
  group_seconds: 0`,
    ),
    FILES,
  );
  let smtp: Awaited<ReturnType<typeof startSmtpServer>> | null = null;
  try {
    await udpQuery(d.port, query('nordvpn.com', TYPE.A), STUDENT);
    await udpQuery(d.port, query('protonvpn.com', TYPE.A), SIXTH);
    await until(async () => (await metric(d, { channel: 'email', result: 'failed' })) >= 1, 'a failed delivery', 20_000);
    await d.waitForLog((l) => l.msg === 'alert not sent: will retry');
    smtp = await startSmtpServer({ port });
    const msgs = await smtp.waitForMessages(2, 40_000);
    assert.equal(msgs.map((m) => m.subject.replace(/.* by /, '')).sort(), ['SF-PC-02 (sixth-form)', 'Y9-LT-07 (students)']);
    // The server has both; the daemon counts each once the server's answer reaches it.
    await until(async () => (await metric(d, { channel: 'email', result: 'sent' })) === 2, 'both counted as sent');
    assert.ok((await metric(d, { channel: 'email', result: 'failed' })) >= 1);
    assert.is(await metric(d, { channel: 'email', result: 'abandoned' }), 0);
    // webfilter status shows the channel's state from the store (for ICT, without Prometheus).
    const status = await until(async () => {
      const r = await cli(['status', '--json', '--config', d.configFile]);
      const email = JSON.parse(r.stdout).alerts?.channels?.find((c: { channel: string }) => c.channel === 'email');
      return email?.sent === 2 ? email : null;
    }, 'status to show the two sent');
    assert.ok(status.failed >= 1);
    assert.match(status.last_error, 'ECONNREFUSED');
    assert.is(status.queued, 0);
    const text = await cli(['status', '--config', d.configFile]);
    assert.match(text.stdout, /alerts: +email: ok — 2 sent, \d+ failed, 0 abandoned, 0 waiting/);
  } finally {
    await d.stop();
    await up.close();
    await smtp?.stop();
  }
});

test('config check reads the url_file without printing it; a bad one is an error naming the key', async () => {
  const { execFileSync, spawnSync } = await import('node:child_process');
  const { CLI, tempDir } = await import('../helpers/daemon-process.js');
  const dir = tempDir({
    ...FILES,
    'webfilter.yaml': config(53, `  email: { url_file: smtp-url, from: "a@school.example", to: ["b@school.example"] }`),
    'smtp-url': 'not a url with password hunter2\n',
  });
  const bad = spawnSync(process.execPath, [CLI, 'config', 'check', path.join(dir, 'webfilter.yaml')], { encoding: 'utf8' });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, 'alerts.email.url_file');
  assert.not.match(bad.stderr + bad.stdout, 'hunter2');
  writeFileSync(path.join(dir, 'smtp-url'), 'smtps://u:hunter2@mail.school.example:465\n');
  const ok = execFileSync(process.execPath, [CLI, 'config', 'check', path.join(dir, 'webfilter.yaml')], { encoding: 'utf8' });
  assert.match(ok, 'alerts by e-mail');
  assert.not.match(ok, 'hunter2');
});

test.run();
