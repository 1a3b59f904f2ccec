/**
 * The CLI for permission requests and the accounts behind them (ICT on the appliance): teacher and
 * approver accounts, `request add/list/approve/decline`, and what each refuses. The real CLI against
 * a store in a temporary directory; whether the daemon applies an approval is the console test's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/daemon-process.js';

const CONFIG = (requests: string) => `
upstream: { servers: ["192.0.2.1"] }
categories: { instagram: [ig.txt], youtube: [yt.txt] }
groups:
  room-12: { clients: [10.20.12.0/24], block: [instagram, youtube] }
  y9-media: { clients: [10.20.13.0/24], block: [instagram, youtube] }
  default: { block: [instagram] }
database: { path: w.db }
requests: { ${requests} }
`;

test('teacher and approver accounts, a request made for a teacher, decided by ICT only when the config allows it', async () => {
  const dir = tempDir({ 'c.yaml': CONFIG('max_duration: 2h'), 'ig.txt': 'instagram.com\n', 'yt.txt': 'youtube.com\n' });
  const config = path.join(dir, 'c.yaml');
  const W = (args: string[], input?: string) => cli([...args, '--config', config], { SUDO_USER: 'ict-tech' }, input);
  const user = (name: string, ...rest: string[]) => W(['user', 'add', name, ...rest, '--password-stdin'], 'a-long-password-1\n');

  // Accounts: a teacher needs groups, that exist; nobody else takes them.
  const noGroups = await user('t.smith', '--role', 'teacher');
  assert.is(noGroups.code, 1);
  assert.match(noGroups.stderr, /role teacher acts for groups: give them with --groups/);
  const unknown = await user('t.smith', '--role', 'teacher', '--groups', 'room-12,room-99');
  assert.match(unknown.stderr, /--groups: no such group "room-99" \(groups: room-12, y9-media, default\)/);
  assert.match((await user('head.patel', '--role', 'approver', '--groups', 'room-12')).stderr, /does not act for groups/);
  assert.is((await user('t.smith', '--role', 'teacher', '--groups', 'room-12,y9-media')).code, 0);
  assert.is((await user('head.patel', '--role', 'approver')).code, 0);
  const users = JSON.parse((await W(['user', 'list', '--json'])).stdout) as { name: string; role: string; groups: string[] }[];
  assert.equal(
    users.map((u) => [u.name, u.role, u.groups]),
    [
      ['head.patel', 'approver', []],
      ['t.smith', 'teacher', ['room-12', 'y9-media']],
    ],
  );

  // A request on the teacher's behalf: their groups only, the same checks as the console.
  const notTheirs = await W([
    'request',
    'add',
    '--teacher',
    't.smith',
    '--group',
    'default',
    '--category',
    'instagram',
    '--until',
    '30m',
    '--reason',
    'x',
  ]);
  assert.is(notTheirs.code, 1);
  assert.match(notTheirs.stderr, /nothing was changed:\n {2}--group: "default" is not one of t\.smith's groups/);
  const add = await W([
    'request',
    'add',
    '--teacher',
    't.smith',
    '--group',
    'room-12',
    '--category',
    'instagram',
    '--until',
    '45m',
    '--reason',
    'Y9 media project',
    '--json',
  ]);
  assert.is(add.code, 0, add.stderr);
  const made = JSON.parse(add.stdout);
  assert.equal(
    [made.id, made.group, made.categories, made.state, made.requested_by, made.starts_at, made.lesson, made.exception_id],
    [1, 'room-12', ['instagram'], 'pending', 't.smith', null, null, null],
  );
  const listed = await W(['request', 'list']);
  assert.match(listed.stdout, /^ID +STATE +GROUP +OPENS/);
  assert.match(listed.stdout, /\n1 +pending +room-12 +instagram +on approval – \S+ \S+.* +45m +t\.smith/);

  // ICT may not decide while requests.ict_may_approve is false: the approval is the Head's.
  const refused = await W(['request', 'approve', '1']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /ict-tech \(role ict\) cannot approve or decline requests \(requests\.ict_may_approve is false/);
  writeFileSync(config, CONFIG('max_duration: 2h, ict_may_approve: true'));
  const approved = await W(['request', 'approve', '1', '--note', 'Agreed with the Head by phone']);
  assert.is(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /Request 1 approved: exception 1 opens instagram for room-12 until/);
  const [ex] = JSON.parse((await W(['exception', 'list', '--json'])).stdout);
  assert.equal([ex.approved_by, ex.requested_by, ex.request_id, ex.created_by], ['ict-tech', 't.smith', 1, 'ict-tech']);
  assert.match((await W(['request', 'approve', '1'])).stderr, /request 1 is approved: it can no longer be decided/);

  await W([
    'request',
    'add',
    '--teacher',
    't.smith',
    '--group',
    'y9-media',
    '--category',
    'youtube',
    '--until',
    '20m',
    '--reason',
    'Clips',
  ]);
  const declined = await W(['request', 'decline', '2', '--note', 'Use the school channel']);
  assert.match(declined.stdout, /Request 2 declined\./);
  const all = JSON.parse((await W(['request', 'list', '--all', '--json'])).stdout) as Record<string, unknown>[];
  assert.equal(
    all.map((r) => [r.id, r.state, r.decided_by, r.note, r.exception_id]),
    [
      [2, 'declined', 'ict-tech', 'Use the school channel', null],
      [1, 'approved', 'ict-tech', 'Agreed with the Head by phone', 1],
    ],
  );
  assert.equal(Object.keys(all[0]), [
    'id',
    'group',
    'categories',
    'starts_at',
    'expires_at',
    'lesson',
    'reason',
    'requested_by',
    'requested_at',
    'state',
    'decided_by',
    'decided_at',
    'note',
    'exception_id',
  ]);
  assert.match((await W(['request', 'list'])).stdout, /^\(none\)/, 'nothing pending');

  // The access audit has each step, from the CLI.
  const audit = JSON.parse((await W(['logs', 'audit', '--json'])).stdout) as {
    actor: string;
    action: string;
    target: string;
    ip: string;
  }[];
  const steps = audit
    .filter((a) => /^(request|exception)-/.test(a.action))
    .map((a) => `${a.actor} ${a.action} ${a.target} ${a.ip}`);
  assert.equal(steps.sort(), [
    'ict-tech exception-add exception 1 cli',
    'ict-tech request-add request 1 cli',
    'ict-tech request-add request 2 cli',
    'ict-tech request-approve request 1 cli',
    'ict-tech request-decline request 2 cli',
  ]);

  // A teacher's groups change with `user groups`.
  assert.match((await W(['user', 'groups', 't.smith', '--groups', 'y9-media'])).stdout, /t\.smith may now ask for: y9-media/);
  const nowNotTheirs = await W([
    'request',
    'add',
    '--teacher',
    't.smith',
    '--group',
    'room-12',
    '--category',
    'instagram',
    '--until',
    '30m',
    '--reason',
    'x',
  ]);
  assert.match(nowNotTheirs.stderr, /"room-12" is not one of t\.smith's groups \(y9-media\)/);
});

test('standing permission from the CLI: approved at once, and a request needs a lesson timetable to ask for a lesson', async () => {
  const dir = tempDir({
    'c.yaml': CONFIG('auto_approve: { y9-media: [youtube] }'),
    'ig.txt': 'instagram.com\n',
    'yt.txt': 'youtube.com\n',
  });
  const config = path.join(dir, 'c.yaml');
  const W = (args: string[], input?: string) => cli([...args, '--config', config], { SUDO_USER: 'ict-tech' }, input);
  assert.is(
    (await W(['user', 'add', 'j.jones', '--role', 'teacher', '--groups', 'y9-media', '--password-stdin'], 'a-long-password-1\n'))
      .code,
    0,
  );
  const auto = await W([
    'request',
    'add',
    '--teacher',
    'j.jones',
    '--group',
    'y9-media',
    '--category',
    'youtube',
    '--until',
    '50m',
    '--reason',
    'Film club',
  ]);
  assert.is(auto.code, 0, auto.stderr);
  assert.match(auto.stdout, /Request 1 approved at once by the standing permission \(requests\.auto_approve\): exception 1/);
  const [ex] = JSON.parse((await W(['exception', 'list', '--json'])).stdout);
  assert.equal([ex.approved_by, ex.requested_by], ['standing permission (requests.auto_approve)', 'j.jones']);
  const lesson = await W([
    'request',
    'add',
    '--teacher',
    'j.jones',
    '--group',
    'y9-media',
    '--category',
    'instagram',
    '--lesson',
    'current',
    '--reason',
    'x',
  ]);
  assert.match(lesson.stderr, /--lesson: no lesson timetable is configured \(requests\.lessons\)/);
});

test.run();
