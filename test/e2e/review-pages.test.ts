/**
 * The review's totals, report columns, export refusals, device search and page layout (issue 15
 * items 16-20), through a running daemon whose evidence comes from real DNS queries, and in real
 * headless Chromium at a phone's width (390 px) and an A4 page's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cli } from '../helpers/cli.js';
import { PASSWORDS, request, signIn, startConsoleDaemon, type ConsoleDaemon } from '../helpers/console-client.js';
import { udpQuery } from '../helpers/dns-client.js';
import { query } from '../helpers/wire-builder.js';
import { needTool } from '../helpers/tools.js';

const CHROMIUM = '/usr/bin/chromium';
const LONG = 'a-very-long-tracking-subdomain-label-that-goes-on-and-onforever.cdn.facebook.com';
let c: ConsoleDaemon;
let W: (...args: string[]) => ReturnType<typeof cli>;

test.before(async () => {
  c = await startConsoleDaemon();
  W = (...args: string[]) => cli(['--config', c.d.configFile, ...args]);
  const dns = (name: string) => udpQuery(c.d.port, query(name), { localAddress: '127.0.0.10' });
  // One signal of five occurrences (the same device, kind and domain), and one of one.
  for (let i = 0; i < 5; i++) await dns('dns.google');
  await dns('use-application-dns.net');
  await dns('www.facebook.com');
  await dns(LONG);
  const add = (...a: string[]) => W('exception', 'add', ...a, '--reason', 'Lesson', '--approved-by', 'Mrs Patel');
  assert.is((await add('--group', 'students', '--category', 'instagram', '--for', '2h')).code, 0);
  assert.is((await add('--client', '127.0.0.20', '--domain', 'youtube.com', '--for', '2h')).code, 0);
  assert.is((await W('exception', 'revoke', '1', '--reason', 'Finished early')).code, 0);
  // The writer batches: wait until both signals and their occurrences are stored.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = JSON.parse((await W('logs', 'signals', '--json')).stdout) as { count: number }[];
    if (rows.length === 2 && rows.reduce((n, r) => n + r.count, 0) === 6) break;
    if (Date.now() > deadline) throw new Error(`signals not stored: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
test.after(async () => {
  await c.stop();
});

const TOTAL = /2 signals, 6 occurrences/;

test('signals are counted as signals and occurrences everywhere (report, overview, signals, device, reports)', async () => {
  const text = (await W('report', '--since', '1d')).stdout;
  assert.match(text, /circumvention: 2 signals, 6 occurrences\./);
  assert.match(text, /Y9-LT-07 127\.0\.0\.10 \[students\]: 2 signals, 6 occurrences/);
  const html = (await W('report', '--since', '1d', '--format', 'html')).stdout;
  assert.match(html, TOTAL);
  const s = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer);
  for (const p of ['/', '/signals?since=1d', '/device?name=Y9-LT-07', '/reports']) {
    const r = await request(c.base, p, { cookie: s.cookie });
    assert.is(r.status, 200, p);
    assert.match(r.body, TOTAL, p);
  }
});

test('report CSV: each exception fact in its own column; a revoked one ends at its revocation', async () => {
  const out = (await W('report', '--since', '1d', '--format', 'csv')).stdout;
  const [head, ...lines] = out.trim().split('\r\n');
  const cols = head.split(',');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
  const ex = rows.filter((r) => r.section === 'exception');
  const group = ex.find((r) => r.group === 'students')!;
  assert.ok(group, out);
  assert.is(group.category, 'instagram');
  assert.is(group.client, '');
  assert.ok(group.revoked_at, 'revoked');
  assert.is(group.ends_at, group.revoked_at, 'ends when revoked, not at its planned end');
  const client = ex.find((r) => r.client === '127.0.0.20/32')!;
  assert.ok(client, out);
  assert.is(client.group, '', 'an address is not a group');
  assert.is(client.domain, 'youtube.com');
  assert.is(client.category, '', 'a domain is not a category');
  assert.is(client.revoked_at, '');
  assert.ok(Date.parse(client.ends_at) > Date.parse(client.starts_at));
});

test('export: a device nothing is stored about is an error, not an empty file', async () => {
  const nope = await W('export', '--device', 'NOPE-99');
  assert.is(nope.code, 1);
  assert.match(nope.stderr, /no records for device "NOPE-99"/);
  assert.is(nope.stdout, '');
  assert.is((await W('export', '--client', '10.99.99.99')).code, 1);
  const ok = await W('export', '--device', 'Y9-LT-07');
  assert.is(ok.code, 0, ok.stderr);
  // Exact for a subject access request: part of a name is not a device.
  assert.is((await W('export', '--device', 'y9')).code, 1);
  // A person nothing is recorded with (a misspelt name): the same, not an empty JSON file.
  const nobody = await W('export', '--user', 'j.smiht');
  assert.is(nobody.code, 1);
  assert.match(nobody.stderr, /no records for user "j\.smiht"/);
  assert.is(nobody.stdout, '');
});

test('device search: any part of a name in any case, and a device list page', async () => {
  const blocked = JSON.parse((await W('logs', 'blocked', '--device', 'y9', '--json')).stdout) as {
    device: string;
    count: number;
  }[];
  // Repeats are one row with a count (issue 25): the attempts are counted, not the rows.
  assert.ok(blocked.reduce((n, b) => n + b.count, 0) >= 7 && blocked.every((b) => b.device === 'Y9-LT-07'));
  assert.is(JSON.parse((await W('logs', 'blocked', '--device', 'lt-0', '--json')).stdout).length, blocked.length);
  assert.is(JSON.parse((await W('logs', 'blocked', '--device', 'y8', '--json')).stdout).length, 0);
  const s = await signIn(c.base, 'oso.jones', PASSWORDS.reviewer);
  const signals = await request(c.base, '/signals?since=1d&device=y9-lt', { cookie: s.cookie });
  assert.match(signals.body, TOTAL);
  for (const q of ['y9', 'LT-07', '127.0.0.1']) {
    const list = await request(c.base, `/devices?q=${encodeURIComponent(q)}`, { cookie: s.cookie });
    assert.is(list.status, 200);
    assert.match(list.body, /<a href="\/device\?name=Y9-LT-07">Y9-LT-07<\/a>/, q);
  }
  const none = await request(c.base, '/devices?q=zz-nothing', { cookie: s.cookie });
  assert.match(none.body, /No device matches\./);
  const all = await request(c.base, '/devices', { cookie: s.cookie });
  assert.match(all.body, /Y9-LT-07/);
  assert.match(all.body, /href="\/devices"/, 'in the navigation');
});

/**
 * In the page: whether it is wider than the window, and every word of a table cell (or the page's
 * text) that the layout broke across lines, leaving out DNS names (the only words allowed to break).
 */
async function layout(
  page: Page,
): Promise<{ width: number; view: number; broken: string[]; tallestRow: number; wide: string[] }> {
  // Run in the page (a string: the tests are compiled without the DOM's types).
  return page.evaluate(`(() => {
    const broken = [];
    for (const cell of document.querySelectorAll('td, th, .card, p, h1, h2, h3')) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        for (const m of (n.textContent || '').matchAll(/\\S+/g)) {
          const word = m[0].replace(/^[("']+|[)"',;:]+$/g, '');
          // DNS names (and addresses) are the only words allowed to break.
          if (word.length < 2 || /^[\\w*-]+(\\.[\\w-]+)+\\.?$/.test(word)) continue;
          const r = document.createRange();
          r.setStart(n, m.index);
          r.setEnd(n, m.index + word.length);
          const tops = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
          if (tops.size > 1) broken.push(word);
        }
      }
    }
    const rows = [...document.querySelectorAll('tbody tr')].map((tr) => tr.getBoundingClientRect().height);
    // What sticks out, to name in a failure.
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5)
      .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right));
    const tw = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = tw.nextNode(); n && wide.length < 8; n = tw.nextNode()) {
      const r = document.createRange();
      r.selectNodeContents(n);
      const right = Math.max(0, ...[...r.getClientRects()].map((x) => x.right));
      if (right > window.innerWidth + 0.5) wide.push('text "' + n.textContent.trim().slice(0, 30) + '" ' + Math.round(right));
    }
    return {
      wide,
      width: document.documentElement.scrollWidth,
      view: window.innerWidth,
      broken,
      tallestRow: Math.max(0, ...rows),
    };
  })()`);
}

test('a 390 px phone: no page is wider than the screen, no word is broken but DNS names, a signal row is short', async () => {
  needTool(CHROMIUM);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await page.goto(`${c.base}/login`);
    await page.fill('input[name=user]', 'ict.admin');
    await page.fill('input[name=password]', PASSWORDS.ict);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button:has-text("Sign in")')]);
    for (const p of [
      '/',
      '/signals?since=1d',
      '/blocked?since=1d',
      '/devices',
      '/device?name=Y9-LT-07',
      '/exceptions',
      '/reports',
      '/audit',
    ]) {
      await page.goto(`${c.base}${p}`);
      const l = await layout(page);
      assert.ok(l.width <= l.view, `${p} is ${l.width} px wide on a ${l.view} px screen: ${l.wide.join(', ')}`);
      assert.equal(l.broken, [], `${p}: words broken mid-word`);
      // A row is a card of a few lines, not a screenful of columns a few letters wide.
      if (p.startsWith('/signals')) assert.ok(l.tallestRow < 844 / 2, `${p}: a signal row is ${l.tallestRow} px tall`);
    }
  } finally {
    await browser?.close();
  }
});

test('the HTML report printed at A4: no wider than the page, no word broken but DNS names', async () => {
  needTool(CHROMIUM);
  const file = path.join(c.d.dir, 'report.html');
  assert.is((await W('report', '--since', '1d', '--format', 'html', '--output', file)).code, 0);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // A4 (210 mm) less the report's 12 mm margins, at CSS's 96 px to the inch.
    const a4 = Math.floor(((210 - 24) / 25.4) * 96);
    const page = await browser.newPage({ viewport: { width: a4, height: 1100 } });
    await page.emulateMedia({ media: 'print' });
    await page.goto(`file://${file}`);
    const l = await layout(page);
    assert.ok(l.width <= a4, `the report is ${l.width} px wide on a ${a4} px A4 page: ${l.wide.join(', ')}`);
    assert.equal(l.broken, [], 'words broken mid-word');
    assert.ok((await page.pdf({ format: 'A4' })).length > 1000, 'and Chromium prints it to an A4 PDF');
  } finally {
    await browser?.close();
  }
});

test.run();
