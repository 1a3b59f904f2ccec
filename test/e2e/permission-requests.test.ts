/**
 * Permission requests end to end: the real daemon under a fake clock (libfaketime) in a Tuesday
 * lesson, moved to just before the lesson's end once the requests are decided; headless Chromium
 * for the teacher's, the Headteacher's and the online safety officer's pages; real DNS queries for
 * what the filter does. WEBFILTER_SCREENSHOTS=DIR saves the Requests
 * pages and the Exceptions page as PNGs (docs/ holds them).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RCODE } from '../../src/dns/constants.js';
import { dayNumber, localToEpoch } from '../../src/time/zoned-time.js';
import { cli } from '../helpers/cli.js';
import {
  auditRows,
  csrfOf,
  request,
  signIn as signInHttp,
  startConsoleDaemon,
  USERS,
  type ConsoleDaemon,
} from '../helpers/console-client.js';
import { udpQuery } from '../helpers/dns-client.js';
import { fakeClockAt, PICKUP_MS } from '../helpers/faketime.js';
import { header, query } from '../helpers/wire-builder.js';
import { needTool } from '../helpers/tools.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { until } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const shots = process.env.WEBFILTER_SCREENSHOTS;
const ROOM_12 = '127.0.0.30';
const STUDENTS = '127.0.0.10';
/** Tuesday 1 December 2026 (GMT) in London. */
const london = (hhmm: string, sec = 0) =>
  localToEpoch(dayNumber('2026-12-01'), Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)), 'Europe/London') + sec * 1000;
const LESSON_END = london('11:00');

const GROUPS = `  room-12: { clients: [${ROOM_12}/32], block: [facebook, instagram] }
  students: { clients: [${STUDENTS}/32], block: [facebook, instagram] }
  sixth-form: { clients: [127.0.0.20/32], block: [] }
  default: { block: [facebook] }`;
const EXTRA = (hook: string) => `schedules:
  school-day-periods: { days: [mon, tue, wed, thu, fri], windows: ["09:00-10:00", "10:00-11:00", "11:20-12:20"] }
requests: { lessons: school-day-periods, notify_to: [head@school.example] }
alerts:
  webhook: { url: "${hook}", format: json }`;

async function signIn(page: Page, base: string, role: keyof typeof USERS): Promise<void> {
  const [user, password] = USERS[role];
  await page.goto(`${base}/login`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button:has-text("Sign in")')]);
}

test('teacher asks until the end of the lesson, the Head approves, room-12 gets instagram until 11:00; decline, forgery, expiry, audit, report', async () => {
  needTool(CHROMIUM);
  // 10:40 on Tuesday: in the 10:00-11:00 lesson, with time to spare on a slow machine.
  const clock = fakeClockAt(london('10:40'));
  let browser: Browser | undefined;
  let c: ConsoleDaemon | undefined;
  // The approvers' channel: a webhook (Teams, Slack or JSON) as the alerts send it.
  const hook = await startWebhookReceiver();
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    c = await startConsoleDaemon({
      groups: GROUPS,
      extra: EXTRA(hook.url),
      console: 'public_url: "https://filter.school.example"',
      teacherGroups: 'room-12',
      env: clock.env,
    });
    const d = c;
    const run = (...args: string[]) => cli([...args, '--config', d.d.configFile], clock.env);
    const dns = async (name: string, from: string) =>
      header((await udpQuery(d.d.port, query(name), { localAddress: from }))!).rcode;
    assert.ok(clock.now() < LESSON_END - 5 * 60_000, `set-up took too long: it is ${new Date(clock.now()).toISOString()}`);
    assert.is(await dns('www.instagram.com', ROOM_12), RCODE.NXDOMAIN, 'blocked before anyone asks');

    // The teacher, in Chromium: lands on Requests, asks for instagram until the end of this lesson.
    const teacher = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    await signIn(teacher, c.base, 'teacher');
    assert.is(new URL(teacher.url()).pathname, '/requests', 'a teacher starts on Requests');
    assert.equal(await teacher.locator('header nav a').allInnerTexts(), ['Requests'], 'and sees nothing else');
    const form = teacher.locator('form[action="/requests"]');
    assert.equal(await form.locator('select[name=group] option').allInnerTexts(), ['room-12'], 'only their own group');
    assert.is(await form.locator('input[name=category][value=vpn-proxy]').count(), 0, 'no circumvention rule to pick');
    await form.locator('input[name=category][value=instagram]').check();
    await form.locator('select[name=lesson]').selectOption('current');
    assert.match(
      await form.locator('select[name=lesson] option[value=current]').innerText(),
      /this lesson \(10:00-11:00, ends 11:00\)/,
    );
    await form.locator('input[name=reason]').fill('Y9 media studies: analysing adverts');
    if (shots) await teacher.screenshot({ path: path.join(shots, 'requests-teacher.png'), fullPage: true });
    await Promise.all([teacher.waitForURL(/asked=1/), form.locator('button:has-text("Ask for permission")').click()]);
    assert.match(await teacher.locator('.flash').innerText(), /Request 1 sent/);
    assert.match(await teacher.locator('#request-1').locator('xpath=ancestor::tr').innerText(), /waiting for a decision/);
    assert.is(await dns('www.instagram.com', ROOM_12), RCODE.NXDOMAIN, 'nothing opens before approval');
    // The approvers are told, through the alert channels, with a link to the Requests page.
    const [told] = await hook.waitForAccepted(1);
    const notice = told.body as { type: string; subject: string; text: string; link: string };
    assert.is(notice.type, 'notice');
    assert.is(notice.subject, 'Permission request from t.smith: instagram for room-12');
    assert.match(
      notice.text,
      /Request 1: t\.smith asks to open instagram for room-12, lesson 10:00-11:00 on Tue 1 Dec\. Reason: Y9 media studies/,
    );
    assert.is(notice.link, 'https://filter.school.example/requests');

    // The Headteacher, in another browser context: approves with a note.
    const head = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(head, c.base, 'approver');
    assert.is(new URL(head.url()).pathname, '/requests');
    const row = head.locator('tr', { has: head.locator('#request-1') });
    assert.match(await row.innerText(), /room-12\s+instagram\s+lesson 10:00-11:00 on Tue 1 Dec/);
    assert.match(await row.innerText(), /t\.smith/);
    await row.locator('input[name=note]').fill('This lesson only');
    if (shots) await head.screenshot({ path: path.join(shots, 'requests-approver.png'), fullPage: true });
    await Promise.all([head.waitForURL(/approved=1/), row.locator('button:has-text("Approve")').click()]);
    assert.match(await head.locator('.flash').innerText(), /Request 1 approved: exception 1/);

    // Within a second room-12 resolves instagram; the students next door are still blocked.
    await until(async () => (await dns('www.instagram.com', ROOM_12)) === RCODE.NOERROR, 'room-12 to get instagram', 1000);
    assert.is(await dns('www.instagram.com', STUDENTS), RCODE.NXDOMAIN, 'another group stays blocked');
    assert.is(await dns('www.facebook.com', ROOM_12), RCODE.NXDOMAIN, 'and only the category asked for opens');

    const [exception] = JSON.parse((await run('exception', 'list', '--json')).stdout);
    assert.equal(
      [exception.id, exception.target, exception.categories, exception.approved_by, exception.requested_by, exception.request_id],
      [1, 'room-12', ['instagram'], 'head.patel', 't.smith', 1],
    );
    assert.is(exception.expires_at, new Date(LESSON_END).toISOString(), 'exactly the end of the lesson');
    assert.is(exception.created_by, 'head.patel (console)');

    // Decline: the teacher asks for facebook too (over HTTP this time); the Head declines; nothing opens.
    const t = await signInHttp(c.base, ...USERS.teacher);
    const asked = await request(c.base, '/requests', {
      cookie: t.cookie,
      form: {
        _csrf: t.csrf,
        group: 'room-12',
        category: 'facebook',
        lesson: 'current',
        reason: 'Facebook page of the museum <script>alert(1)</script>',
      },
    });
    assert.is(asked.status, 303);
    assert.is(asked.headers.location, '/requests?asked=2');
    const h = await signInHttp(c.base, ...USERS.approver);
    const listed = await request(c.base, '/requests', { cookie: h.cookie });
    assert.match(
      listed.body,
      /Facebook page of the museum &lt;script&gt;alert\(1\)&lt;\/script&gt;/,
      'a reason is shown as text',
    );
    assert.not.match(listed.body, /<script>/);
    const declined = await request(c.base, '/requests/2/decline', {
      cookie: h.cookie,
      form: { _csrf: h.csrf, note: 'Not Facebook' },
    });
    assert.is(declined.headers.location, '/requests?declined=2');
    assert.is(await dns('www.facebook.com', ROOM_12), RCODE.NXDOMAIN, 'declined: still blocked');
    const again = await request(c.base, '/requests/2/approve', { cookie: h.cookie, form: { _csrf: h.csrf, note: '' } });
    assert.is(again.status, 409, 'a declined request cannot then be approved');

    // Forgery: the teacher posts a group that is not theirs, with a valid session and token.
    const before = (await run('request', 'list', '--all', '--json')).stdout;
    const forged = await request(c.base, '/requests', {
      cookie: t.cookie,
      form: { _csrf: t.csrf, group: 'students', category: 'instagram', lesson: 'current', reason: 'forged' },
    });
    assert.is(forged.status, 403);
    assert.match(forged.body, /&quot;students&quot; is not one of t\.smith&#39;s groups \(room-12\)/);
    assert.is((await run('request', 'list', '--all', '--json')).stdout, before, 'nothing written');
    const teacherOnApprove = await request(c.base, '/requests/1/approve', { cookie: t.cookie, form: { _csrf: t.csrf } });
    assert.is(teacherOnApprove.status, 403, 'a teacher cannot approve');
    const ictOnApprove = await signInHttp(c.base, ...USERS.ict);
    assert.is(
      (await request(c.base, '/requests/2/approve', { cookie: ictOnApprove.cookie, form: { _csrf: ictOnApprove.csrf } })).status,
      403,
      'ICT cannot approve unless requests.ict_may_approve',
    );

    // Pending past its start: asked to start in three seconds, nobody decides, it expires.
    const start = new Date(clock.now() + 3000);
    const hhmmss = start.toISOString().slice(11, 19);
    const later = await request(c.base, '/requests', {
      cookie: t.cookie,
      form: { _csrf: t.csrf, group: 'room-12', category: 'instagram', from: hhmmss, until: '10m', reason: 'Next activity' },
    });
    assert.is(later.headers.location, '/requests?asked=3', later.body);
    await c.d.waitForLog((l) => l.msg === 'permission request expired unapproved' && l.request === 3, 8000);
    const expired = JSON.parse((await run('request', 'list', '--all', '--json')).stdout) as { id: number; state: string }[];
    assert.equal(
      expired.map((r) => [r.id, r.state]),
      [
        [3, 'expired'],
        [2, 'declined'],
        [1, 'approved'],
      ],
    );
    const late = await request(c.base, '/requests/3/approve', { cookie: h.cookie, form: { _csrf: h.csrf } });
    assert.is(late.status, 409, 'too late to approve');

    // The online safety officer sees who asked on the Exceptions page, and every request.
    const oso = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(oso, c.base, 'reviewer');
    await oso.goto(`${c.base}/exceptions`);
    const exRow = oso.locator('tr', { hasText: 'head.patel' }).first();
    assert.match(await exRow.innerText(), /t\.smith \(request 1\)/);
    assert.match(await oso.locator('body').innerText(), /declined by head\.patel .*: Not Facebook/);
    assert.is(await oso.locator('script').count(), 0);
    assert.match(await oso.locator('body').innerText(), /expired, not approved in time/);
    if (shots) await oso.screenshot({ path: path.join(shots, 'requests-exceptions.png'), fullPage: true });

    // Two seconds before the end of the lesson it is still open; from 11:00 it is blocked again.
    clock.set(LESSON_END - 2000);
    assert.is(await dns('www.instagram.com', ROOM_12), RCODE.NOERROR, 'open until the end of the lesson');
    await until(
      async () => (await dns('www.instagram.com', ROOM_12)) === RCODE.NXDOMAIN,
      'the block at 11:00',
      2000 + PICKUP_MS + 2000,
    );
    assert.ok(clock.now() >= LESSON_END, `blocked only from 11:00 (blocked at ${new Date(clock.now()).toISOString()})`);

    // The access audit: each step, by whom, from where.
    const rows = await auditRows(c.d);
    const has = (actor: string, action: string, target: string, ip = '127.0.0.1') =>
      assert.ok(
        rows.some((r) => r.actor === actor && r.action === action && r.target === target && r.ip === ip),
        `${actor} ${action} ${target}: ${JSON.stringify(rows.filter((r) => r.action.startsWith('request') || r.action.startsWith('exception')))}`,
      );
    has('t.smith', 'request-add', 'request 1');
    has('head.patel', 'request-approve', 'request 1');
    has('head.patel', 'exception-add', 'exception 1');
    has('t.smith', 'request-add', 'request 2');
    has('head.patel', 'request-decline', 'request 2');
    has('webfilter', 'request-expire', 'request 3', 'daemon');
    assert.is(rows.filter((r) => r.action === 'request-add').length, 3, 'the forged one is not there');
    assert.is(rows.filter((r) => r.action === 'exception-add').length, 1);
    // Each request waiting for a decision was announced once (request 2, declined at once, may not
    // have waited for the next round); the forged one never.
    const announced = hook
      .accepted()
      .flatMap((r) => [...(r.body as { text: string }).text.matchAll(/Request (\d+):/g)].map((m) => Number(m[1])));
    assert.equal(
      announced.filter((id) => id !== 2),
      [1, 3],
    );
    assert.ok(announced.filter((id) => id === 2).length <= 1);

    // The weekly report says who asked, who approved, for which class and for how long.
    const report = await run('report', '--since', '1d');
    assert.is(report.code, 0, report.stderr);
    assert.match(report.stdout, /Permissions granted in the period/);
    assert.match(
      report.stdout,
      /room-12\s+instagram\s+t\.smith 2026-12-01 10:\d\d.*head\.patel\s+2026-12-01 10:\d\d.*2026-12-01 11:00.*\d+m\s+Y9 media studies/,
    );
    assert.match(report.stdout, /Other requests: 1 declined, 1 expired unapproved\./);
  } finally {
    await browser?.close();
    await c?.stop();
    await hook.close();
  }
});

test.run();
