/** End-to-end: logs, report (text, CSV, HTML rendered in headless Chromium), export and status. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { TYPE } from '../../src/dns/constants.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { query, reply, rr } from '../helpers/wire-builder.js';
import { cli } from '../helpers/cli.js';
import { needTool } from '../helpers/tools.js';

const HOSTILE = '<script>alert(1)</script>.facebook.com';

let up: FakeUpstream;
let d: DaemonProcess;
const W = (...args: string[]) => cli(['--config', d.configFile, ...args], { SUDO_USER: 'ict-tech' });

test.before(async () => {
  up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  d = await startDaemon(
    testConfig({
      upstreams: [up.port],
      extra: 'circumvention: { encrypted_dns: { lists: [doh.txt] } }\nclients: { names: { "127.0.0.10": Y9-LT-07 } }',
    }),
    { ...LISTS, 'doh.txt': 'dns.google\n' },
  );
  const ask = (name: string, client = '127.0.0.10', type: number = TYPE.A) =>
    udpQuery(d.port, query(name, type), { localAddress: client });
  for (let i = 0; i < 3; i++) await ask(`www${i}.facebook.com`);
  await ask(HOSTILE);
  await ask('dns.google');
  await ask('use-application-dns.net');
  await ask('www.bbc.co.uk', '127.0.0.20');
  await W(
    'exception',
    'add',
    '--group',
    'students',
    '--category',
    'instagram',
    '--for',
    '1h',
    '--reason',
    'Media <b>project</b>',
    '--approved-by',
    'Mrs Patel',
  );
  await new Promise((r) => setTimeout(r, 800)); // let the writer flush
});

test.after(async () => {
  await d.stop();
  await up.close();
});

test('logs: filters, JSON and CSV', async () => {
  const blocked = JSON.parse((await W('logs', 'blocked', '--device', 'Y9-LT-07', '--json')).stdout) as Record<string, string>[];
  assert.is(blocked.length, 5);
  assert.ok(blocked.every((b) => b.device === 'Y9-LT-07' && b.group === 'students'));
  const fb = JSON.parse((await W('logs', 'blocked', '--category', 'facebook', '--limit', '2', '--json')).stdout);
  assert.is(fb.length, 2);
  const signals = JSON.parse((await W('logs', 'signals', '--kind', 'encrypted-dns', '--json')).stdout) as Record<
    string,
    string
  >[];
  assert.equal(
    signals.map((s) => [s.kind, s.domain, s.device]),
    [['encrypted-dns', 'dns.google', 'Y9-LT-07']],
  );
  const access = await W('logs', 'access', '--client', '127.0.0.20', '--csv');
  assert.match(
    access.stdout,
    /^hour,client,device,group,domain,count,first_seen,last_seen,user\r\n.*127\.0\.0\.20,,sixth-form,bbc\.co\.uk,1,/,
  );
  const table = (await W('logs', 'blocked', '--since', '1h')).stdout;
  assert.match(table, /^TIME\s+CLIENT\s+DEVICE\s+GROUP\s+USER\s+NAME/);
  const bad = await W('logs', 'blocked', '--since', 'yesterday-ish');
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--since "yesterday-ish": use a duration/);
  const badGroup = await W('logs', 'signals', '--group', 'nope');
  assert.is(badGroup.code, 1, 'the config has no such group: an error, as exception add says it');
  assert.match(badGroup.stderr, /no such group \(groups: students, sixth-form, default\)/);
});

test('report: text and CSV list signals by device, exceptions and totals', async () => {
  const text = (await W('report', '--since', '1d')).stdout;
  assert.match(text, /5 blocked attempts from 1 device; circumvention: 2 signals, 2 occurrences\./);
  assert.match(text, /Y9-LT-07 127\.0\.0\.10 \[students\]/);
  assert.match(text, /encrypted-dns/);
  assert.match(text, /Mrs Patel/);
  const csvOut = (await W('report', '--format', 'csv')).stdout;
  assert.match(csvOut, /^section,day,group,category/);
  // A signal line per device, kind and day: day, …, count (occurrences), signals, unreviewed.
  assert.match(csvOut, /\r\nsignal,\d{4}-\d\d-\d\d,students,,Y9-LT-07,127\.0\.0\.10,doh-canary,low,1,1,,1,/);
  assert.match(csvOut, /\r\nexception,.*Mrs Patel/);
});

test('report --format html: self-contained, escaped, and it renders in headless Chromium', async () => {
  const file = path.join(d.dir, 'week.html');
  const r = await W('report', '--format', 'html', '--output', file);
  assert.is(r.code, 0, r.stderr);
  const html = readFileSync(file, 'utf8');
  assert.ok(html.startsWith('<!doctype html>'));
  assert.not.match(html, /<script|src=|href=|@import|url\(/i, 'no scripts and no external assets');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;\.facebook\.com|Top devices/);
  assert.match(html, /Media &lt;b&gt;project&lt;\/b&gt;/, 'the reason is text, not markup');
  assert.match(html, /<h2>Circumvention signals by device<\/h2>\s*<section class="device"><h3>Y9-LT-07/);
  assert.match(html, /encrypted-dns/);
  assert.match(html, /Mrs Patel/);
  assert.match(html, /@media print/);
  needTool('chromium');
  const png = path.join(d.dir, 'week.png');
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${path.join(d.dir, 'chrome')}`,
  ];
  const dom = spawnSync('chromium', [...flags, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
  assert.match(dom.stdout, /<h1>webfilter report<\/h1>/, dom.stderr);
  assert.match(dom.stdout, /Y9-LT-07/);
  assert.not.match(dom.stdout, /<script>alert/, 'the hostile name stays text in the DOM');
  spawnSync('chromium', [...flags, `--screenshot=${png}`, '--window-size=1200,1400', `file://${file}`], { timeout: 60_000 });
  assert.ok(statSync(png).size > 10_000, 'a real screenshot was taken');
});

test('export: everything about one device, as JSON and CSV; status', async () => {
  const j = JSON.parse((await W('export', '--device', 'Y9-LT-07')).stdout);
  assert.equal(j.subject, { device: 'Y9-LT-07' });
  assert.is(j.blocked.length, 5);
  assert.is(j.signals.length, 2);
  const c = (await W('export', '--client', '127.0.0.20', '--csv')).stdout;
  assert.match(
    c,
    /^record,time,client,device,group,user,name,type,category,detail,count\r\naccess-hour,.*,127\.0\.0\.20,,sixth-form,,bbc\.co\.uk,/,
  );
  const neither = await W('export');
  assert.is(neither.code, 2);
  const status = JSON.parse((await W('status', '--json')).stdout);
  assert.is(status.daemon, 'running');
  assert.is(status.pid, d.child.pid);
  assert.is(status.active_exceptions.length, 1);
  const lists = JSON.parse((await W('lists', 'show', '--json')).stdout) as { category: string; entries: number }[];
  assert.equal(lists.find((l) => l.category === 'facebook')?.entries, 3);
});

test.run();
