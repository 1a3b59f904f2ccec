/**
 * Reviews of circumvention signals, end to end: the CLI (`signal review`, `logs signals --unreviewed
 * / --json`, export, report, the audit), and the console's review form as a reviewer in headless
 * Chromium. WEBFILTER_SCREENSHOTS=DIR saves the form as a PNG (docs/signal-review.png).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { TYPE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import { PASSWORDS, auditRows, startConsoleDaemon, type ConsoleDaemon } from '../helpers/console-client.js';
import { udpQuery } from '../helpers/dns-client.js';
import { query } from '../helpers/wire-builder.js';
import { needTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const shots = process.env.WEBFILTER_SCREENSHOTS;

interface SignalJson {
  id: number;
  device: string;
  client: string;
  kind: string;
  count: number;
  review: { outcome: string; note: string; by: string; at: string } | null;
}

async function signals(c: ConsoleDaemon, ...args: string[]): Promise<SignalJson[]> {
  const r = await cli(['logs', 'signals', '--since', '1h', '--json', ...args, '--config', c.d.configFile]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const dns = (c: ConsoleDaemon, name: string, from: string) => udpQuery(c.d.port, query(name, TYPE.A), { localAddress: from });

test('CLI: review → logs signals --json shows it; --unreviewed filters; a repeat after the review is a new signal; export, report and audit', async () => {
  const c = await startConsoleDaemon();
  try {
    await dns(c, 'dns.google', '127.0.0.10');
    await dns(c, 'dns.google', '127.0.0.20');
    const before = await until(async () => {
      const s = await signals(c);
      return s.length === 2 ? s : null;
    }, 'two signals');
    assert.ok(before.every((s) => s.review === null && Number.isInteger(s.id)));
    const y9 = before.find((s) => s.device === 'Y9-LT-07')!;

    const r = await cli([
      'signal',
      'review',
      String(y9.id),
      '--outcome',
      'sanction',
      '--note',
      'Spoke to Y9 student, parents informed',
      '--config',
      c.d.configFile,
    ]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, `Signal ${y9.id} (encrypted-dns by Y9-LT-07`);

    const after = await signals(c);
    const reviewed = after.find((s) => s.id === y9.id)!;
    assert.equal(
      { ...reviewed.review, at: undefined },
      { outcome: 'sanction', note: 'Spoke to Y9 student, parents informed', by: reviewed.review!.by, at: undefined },
    );
    assert.ok(reviewed.review!.by.length > 0);
    assert.ok(Math.abs(Date.parse(reviewed.review!.at) - Date.now()) < 60_000);
    assert.equal(
      (await signals(c, '--unreviewed')).map((s) => s.client),
      ['127.0.0.20'],
    );

    // The same device again, after the review: a new, unreviewed signal (the reviewed one is closed).
    await dns(c, 'dns.google', '127.0.0.10');
    const unreviewed = await until(async () => {
      const s = await signals(c, '--unreviewed');
      return s.length === 2 ? s : null;
    }, 'the repeat as a new unreviewed signal');
    assert.ok(unreviewed.some((s) => s.device === 'Y9-LT-07' && s.id !== y9.id));
    assert.is((await signals(c)).find((s) => s.id === y9.id)!.count, 1, 'the reviewed signal took no more occurrences');

    const table = await cli(['logs', 'signals', '--since', '1h', '--config', c.d.configFile]);
    assert.match(table.stdout, /sanction \(.+\): Spoke to Y9 student/);
    assert.match(table.stdout, 'not reviewed');

    const exp = await cli(['export', '--device', 'Y9-LT-07', '--config', c.d.configFile]);
    assert.is(exp.code, 0, exp.stderr);
    const data = JSON.parse(exp.stdout);
    assert.is(
      data.signals.find((s: SignalJson) => s.id === y9.id).review.outcome,
      'sanction',
      'the review is in the subject-access export',
    );

    const report = await cli(['report', '--since', '1h', '--config', c.d.configFile]);
    assert.match(report.stdout, '2 not yet reviewed');
    // The device with unreviewed signals comes first, and the unreviewed one first within it.
    const section = report.stdout.slice(report.stdout.indexOf('Circumvention signals by device'));
    assert.match(section, /NOT REVIEWED[\s\S]*sanction/);

    const audit = await auditRows(c.d);
    const row = audit.find((a) => a.action === 'signal-review');
    assert.ok(row, JSON.stringify(audit));
    assert.is(row!.ip, 'cli');
    assert.is(row!.target, `signal ${y9.id}`);
    assert.match(row!.detail, 'sanction: Spoke to Y9 student');

    const bad = await cli(['signal', 'review', '999999', '--outcome', 'no-action', '--config', c.d.configFile]);
    assert.is(bad.code, 1);
    assert.match(bad.stderr, 'no signal 999999');
    const usage = await cli(['signal', 'review', String(y9.id), '--outcome', 'expelled', '--config', c.d.configFile]);
    assert.is(usage.code, 2);
    assert.match(usage.stderr, 'spoke-to-student');
  } finally {
    await c.stop();
  }
});

test('console: a reviewer records a review in Chromium (audited), the Overview counts unreviewed, and a reviewer still cannot add exceptions', async () => {
  needTool(CHROMIUM);
  const c = await startConsoleDaemon();
  let browser: Browser | undefined;
  try {
    await dns(c, 'dns.google', '127.0.0.10');
    await until(async () => (await signals(c)).length === 1, 'the signal');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${c.base}/login`);
    await page.fill('input[name=user]', 'oso.jones');
    await page.fill('input[name=password]', PASSWORDS.reviewer);
    await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('button:has-text("Sign in")')]);
    assert.match(await page.locator('.card.attention').innerText(), /1\s*signal not yet reviewed/);

    await Promise.all([page.waitForURL(/\/signals/), page.click('.card.attention')]);
    const row = page.locator('tr', { hasText: 'encrypted-dns' });
    assert.match(await row.innerText(), 'not reviewed');
    await row.locator('summary', { hasText: 'not reviewed' }).click();
    await row.locator('select[name=outcome]').selectOption('spoke-to-student');
    if (shots) {
      await row.locator('input[name=note]').fill('Talked with the student and form tutor today');
      await page.screenshot({ path: path.join(shots, 'signal-review.png'), fullPage: true });
    }
    await row.locator('input[name=note]').fill('Talked with the student and form tutor <b>today</b>');
    await Promise.all([
      page.waitForURL(/\/signals\?since=30d&review=unreviewed$/),
      row.locator('button:has-text("Record review")').click(),
    ]);
    assert.match(
      await page.locator('main').innerText(),
      'No circumvention signals match',
      'the unreviewed filter shows none left',
    );

    await page.goto(`${c.base}/device?name=Y9-LT-07`);
    const reviewed = page.locator('tr', { hasText: 'spoke-to-student' });
    assert.match(
      await reviewed.innerText(),
      /spoke-to-student — Talked with the student and form tutor <b>today<\/b>\s*\(oso\.jones/,
    );

    const s = (await signals(c))[0];
    assert.equal([s.review!.outcome, s.review!.by], ['spoke-to-student', 'oso.jones']);
    const audit = (await auditRows(c.d)).find((a) => a.action === 'signal-review');
    assert.ok(audit);
    assert.equal([audit!.actor, audit!.ip, audit!.target], ['oso.jones', '127.0.0.1', `signal ${s.id}`]);

    // Reviewing gives no new powers: exceptions stay ICT's, even with the session's own CSRF token.
    const csrf = await page.locator('input[name=_csrf]').first().getAttribute('value');
    await page.goto(`${c.base}/exceptions`);
    assert.is(await page.locator('form[action="/exceptions"]').count(), 0, 'no add form for a reviewer');
    const cookie = (await context.cookies()).map((k) => `${k.name}=${k.value}`).join('; ');
    const refused = await fetch(`${c.base}/exceptions`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        _csrf: csrf!,
        group: 'students',
        category: 'facebook',
        for: '1h',
        reason: 'x',
        approved_by: 'y',
      }),
      redirect: 'manual',
    });
    assert.is(refused.status, 403);
    assert.match(await refused.text(), 'Your role (reviewer) cannot do this');
    const ex = await cli(['exception', 'list', '--json', '--config', c.d.configFile]);
    assert.equal(JSON.parse(ex.stdout), [], 'nothing was added');
  } finally {
    await browser?.close();
    await c.stop();
  }
});

test.run();
