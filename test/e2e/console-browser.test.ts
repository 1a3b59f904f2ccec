/**
 * The review console in real headless Chromium (Debian's, driven by playwright-core): the online
 * safety officer's and ICT's daily paths, end to end through a running daemon.
 * WEBFILTER_SCREENSHOTS=DIR also saves the overview and device pages as PNGs (docs/ holds them).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RCODE, TYPE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import { PASSWORDS, startConsoleDaemon, type ConsoleDaemon, auditRows } from '../helpers/console-client.js';
import { udpQuery } from '../helpers/dns-client.js';
import { header, query } from '../helpers/wire-builder.js';
import { needTool } from '../helpers/tools.js';

const CHROMIUM = '/usr/bin/chromium';
const shots = process.env.WEBFILTER_SCREENSHOTS;
const EVIL = '<script>alert(1)</script>.facebook.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function signIn(page: Page, base: string, user: string, password: string): Promise<void> {
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button:has-text("Sign in")')]);
  assert.ok(page.url().startsWith(base), page.url());
}

test('reviewer and ICT in headless Chromium: signal → device → export, refusals, an exception the daemon honours', async () => {
  needTool(CHROMIUM);
  const c: ConsoleDaemon = await startConsoleDaemon();
  let browser: Browser | undefined;
  try {
    const dns = (name: string, type: number = TYPE.A) => udpQuery(c.d.port, query(name, type), { localAddress: '127.0.0.10' });
    // Evidence made by real DNS queries from a student's laptop (127.0.0.10 = Y9-LT-07).
    assert.is(header((await dns('dns.google'))!).rcode, RCODE.NXDOMAIN, 'DoH bootstrap blocked');
    assert.is(header((await dns(EVIL))!).rcode, RCODE.NXDOMAIN);
    assert.is(header((await dns('www.instagram.com'))!).rcode, RCODE.NXDOMAIN, 'instagram blocked before the exception');
    for (let i = 0; i < 3; i++) await dns(`www${i}.facebook.com`);
    for (const allowed of ['www.bbc.co.uk', 'classroom.google.com', 'www.bbc.co.uk', 'en.wikipedia.org']) await dns(allowed);
    const pre = await cli([
      'exception',
      'add',
      '--group',
      'sixth-form',
      '--category',
      'facebook',
      '--for',
      '1h',
      '--reason',
      'Careers fair',
      '--approved-by',
      'Head',
      '--config',
      c.d.configFile,
    ]);
    assert.is(pre.code, 0, pre.stderr);
    await sleep(400);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });

    // Reviewer: straight to Signals, sent to sign in first, then back.
    await page.goto(`${c.base}/signals`);
    assert.match(new URL(page.url()).pathname, /^\/login/);
    await signIn(page, c.base, 'oso.jones', PASSWORDS.reviewer);
    assert.is(new URL(page.url()).pathname, '/signals');
    const row = page.locator('tr', { hasText: 'encrypted-dns' });
    assert.is(await row.count(), 1, 'the signal from the real DNS query');
    assert.match((await row.innerText()).replace(/\s+/g, ' '), /Y9-LT-07 127\.0\.0\.10 students encrypted-dns/);

    await Promise.all([page.waitForURL(/\/device\?name=Y9-LT-07/), row.locator('a', { hasText: 'Y9-LT-07' }).click()]);
    assert.match(await page.locator('h1').innerText(), /Device Y9-LT-07/);
    assert.ok((await page.locator('text=dns.google').count()) > 0);
    assert.is(await page.locator('td', { hasText: EVIL }).count(), 1, 'the hostile name is shown as text');
    assert.is(await page.locator('script').count(), 0, 'and never became a script element');
    assert.match(await page.locator('table').last().innerText(), /bbc\.co\.uk\s+2/, 'access summary by registrable domain');
    if (shots) await page.screenshot({ path: path.join(shots, 'console-device.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("JSON")')]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    assert.equal(exported.subject, { device: 'Y9-LT-07' });
    assert.ok(exported.signals.some((s: { kind: string }) => s.kind === 'encrypted-dns'));
    assert.ok(exported.blocked.some((b: { qname: string }) => b.qname === EVIL));

    // A reviewer sees exceptions but cannot revoke one, even by posting the form directly.
    await page.goto(`${c.base}/exceptions`);
    assert.is(await page.locator('button:has-text("Revoke")').count(), 0);
    const csrf = await page.inputValue('header form input[name=_csrf]');
    const refused = await page.request.post(`${c.base}/exceptions/1/revoke`, {
      form: { _csrf: csrf, reason: 'not allowed' },
      maxRedirects: 0,
    });
    assert.is(refused.status(), 403);
    assert.match(await refused.text(), /Your role \(reviewer\) cannot do this/);

    await page.goto(`${c.base}/`);
    await page.waitForSelector('svg.chart');
    if (shots) await page.screenshot({ path: path.join(shots, 'console-overview.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/login/), page.click('header button:has-text("Sign out")')]);

    // ICT: opens Instagram for the students, and the daemon honours it within a second.
    await page.goto(`${c.base}/exceptions`);
    await signIn(page, c.base, 'ict.admin', PASSWORDS.ict);
    const form = page.locator('form[action="/exceptions"]');
    await form.locator('select[name=group]').selectOption('students');
    await form.locator('input[name=category][value=instagram]').check();
    await form.locator('input[name=for]').fill('30m');
    await form.locator('input[name=reason]').fill('Y9 media project');
    await form.locator('input[name=approved_by]').fill('Mrs Patel (Headteacher)');
    await Promise.all([page.waitForURL(/added=\d+/), form.locator('button:has-text("Add exception")').click()]);
    assert.match(await page.locator('.flash').innerText(), /Exception 2 added/);
    let rcode = -1;
    for (let i = 0; i < 30 && rcode !== RCODE.NOERROR; i++) {
      await sleep(100);
      rcode = header((await dns('www.instagram.com'))!).rcode;
    }
    assert.is(rcode, RCODE.NOERROR, 'the daemon applies the exception added in the browser');
    await page.goto(`${c.base}/audit`);
    assert.ok((await page.locator('td', { hasText: 'exception-add' }).count()) >= 2, 'the CLI’s and the console’s');
    assert.is(dialogs, 0, 'no script ever ran');

    // The access audit holds every action of this test, with who and from where.
    const rows = await auditRows(c.d);
    const has = (actor: string, action: string, target: RegExp, ip = '127.0.0.1') =>
      assert.ok(
        rows.some((r) => r.actor === actor && r.action === action && target.test(r.target) && r.ip === ip),
        `${actor} ${action} ${target}: ${JSON.stringify(rows)}`,
      );
    const me = process.env.SUDO_USER || userInfo().username;
    has(me, 'user-add', /^oso\.jones$/, 'cli');
    has(me, 'exception-add', /^exception 1$/, 'cli');
    has('oso.jones', 'sign-in', /oso\.jones/);
    has('oso.jones', 'view-device', /^device Y9-LT-07$/);
    has('oso.jones', 'export', /^device Y9-LT-07$/);
    has('oso.jones', 'sign-out', /oso\.jones/);
    has('ict.admin', 'sign-in', /ict\.admin/);
    has('ict.admin', 'exception-add', /^exception 2$/);
  } finally {
    await browser?.close();
    await c.stop();
  }
});

test.run();
