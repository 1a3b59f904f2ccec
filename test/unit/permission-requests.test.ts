/**
 * The rules of permission requests, in-process against a real store in a temporary directory: whose
 * groups, which categories, the same checks as `exception add`, who may decide, standing permission.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import {
  decideRequest,
  makeRequest,
  RequestRefused,
  STANDING_PERMISSION,
  stateAt,
  type Acting,
} from '../../src/requests/permission-requests.js';
import { may, ROLES } from '../../src/roles/roles.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { dayNumber, localToEpoch } from '../../src/time/zoned-time.js';
import { tempDir } from '../helpers/daemon-process.js';

process.env.TZ = 'Europe/London';
const at = (hhmm: string) =>
  localToEpoch(dayNumber('2026-11-24'), Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)), 'Europe/London');

const CONFIG = (requests: string) => `
upstream: { servers: ["192.0.2.1"] }
categories:
  instagram: [ig.txt]
  youtube: [yt.txt]
  iwf: { lists: [ig.txt], locked: true }
schedules:
  periods: { days: [mon, tue, wed, thu, fri], windows: ["09:00-10:00", "10:00-11:00"] }
groups:
  room-12: { clients: [10.20.12.0/24], block: [instagram, youtube] }
  sixth-form: { clients: [10.30.0.0/16], block: [instagram, youtube] }
  default: { block: [instagram] }
requests: { lessons: periods${requests} }
`;

async function setup(requests = ''): Promise<{ loaded: LoadedConfig; storage: Storage }> {
  const dir = tempDir({ 'c.yaml': CONFIG(requests), 'ig.txt': 'instagram.com\n', 'yt.txt': 'youtube.com\n' });
  const loaded = await loadConfig(path.join(dir, 'c.yaml'));
  return {
    loaded,
    storage: openStorage({ evidencePath: path.join(dir, 'w.db'), accountsPath: path.join(dir, 'w-accounts.db') }, 'write'),
  };
}

const teacher = { name: 't.smith', role: 'teacher' as const, groups: ['room-12'] };
const acting = (who: { name: string; role: Acting['role']; groups?: string[] }, now = at('10:15')): Acting => ({
  name: who.name,
  role: who.role,
  groups: who.groups ?? [],
  ip: '10.0.0.5',
  at: now,
  recordedAs: `${who.name} (console)`,
});
const head = { name: 'head.patel', role: 'approver' as const };
const ask = { group: 'room-12', categories: ['instagram'], lesson: 'current', reason: 'Y9 media project' };

async function refusal(p: Promise<unknown>): Promise<RequestRefused> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RequestRefused) return e;
    throw e;
  }
  assert.unreachable('not refused');
  throw new Error();
}

test('the role table: who may ask, decide, see; ICT decides only when the config says so', async () => {
  const { loaded } = await setup();
  const { loaded: ictMay } = await setup(', ict_may_approve: true');
  const table = (c: LoadedConfig) =>
    Object.fromEntries(
      ROLES.map((r) => [r, (['requests.make', 'requests.decide', 'evidence'] as const).filter((p) => may(r, p, c.config))]),
    );
  assert.equal(table(loaded), {
    reviewer: ['evidence'],
    ict: ['evidence'],
    teacher: ['requests.make'],
    approver: ['requests.decide'],
  });
  assert.equal(table(ictMay).ict, ['requests.decide', 'evidence']);
});

test('a teacher asks for their own group only; a group not theirs is 403 and nothing is stored', async () => {
  const { loaded, storage } = await setup();
  try {
    const forged = await refusal(makeRequest(storage, loaded, { ...ask, group: 'sixth-form' }, teacher, acting(teacher)));
    assert.is(forged.status, 403);
    assert.match(forged.problems.group!, /"sixth-form" is not one of t\.smith's groups \(room-12\)/);
    const notTeacher = await refusal(makeRequest(storage, loaded, ask, { ...head, groups: ['room-12'] }, acting(head)));
    assert.is(notTeacher.status, 403, 'only a role that may ask');
    assert.equal(await storage.requests.list({}), []);
    const { request, exception } = await makeRequest(storage, loaded, ask, teacher, acting(teacher));
    assert.is(exception, null);
    assert.equal(
      [request.state, request.startsAt, request.expiresAt, request.lesson, request.requestedBy],
      ['pending', null, at('11:00'), '10:00-11:00 on Tue 24 Nov', 't.smith'],
    );
  } finally {
    await storage.close();
  }
});

test('each problem is named by its field, with the checks of exception add; nothing stored', async () => {
  const { loaded, storage } = await setup();
  try {
    const p = await refusal(
      makeRequest(
        storage,
        loaded,
        { group: 'room-12', categories: ['iwf', 'vpn-proxy', 'tiktok'], until: '2d', reason: ' ' },
        teacher,
        acting(teacher),
      ),
    );
    assert.is(p.status, 400);
    assert.match(p.problems.category!, /"iwf" is locked in the config/);
    assert.match(p.problems.category!, /"vpn-proxy" is a circumvention rule/);
    assert.match(p.problems.category!, /"tiktok": no such category/);
    assert.match(p.problems.until!, /longer than a request may last/);
    assert.match(p.problems.reason!, /required/);
    const none = await refusal(makeRequest(storage, loaded, { ...ask, categories: [] }, teacher, acting(teacher)));
    assert.match(none.problems.category!, /pick at least one/);
    const noLesson = await refusal(makeRequest(storage, loaded, ask, teacher, acting(teacher, at('11:30'))));
    assert.match(noLesson.problems.lesson!, /no lesson is running now/);
    assert.equal(await storage.requests.list({}), []);
  } finally {
    await storage.close();
  }
});

test('an approver approves into an exception approved by their account; decline; only once; ICT when allowed', async () => {
  const { loaded, storage } = await setup();
  try {
    const { request: r1 } = await makeRequest(storage, loaded, ask, teacher, acting(teacher));
    const denied = await refusal(
      decideRequest(storage, loaded, r1.id, 'approve', '', acting({ name: 'ict.admin', role: 'ict' })),
    );
    assert.is(denied.status, 403);
    assert.match(denied.message, /requests\.ict_may_approve is false/);
    const teacherTries = await refusal(decideRequest(storage, loaded, r1.id, 'approve', '', acting(teacher)));
    assert.is(teacherTries.status, 403);
    const { request, exception } = await decideRequest(storage, loaded, r1.id, 'approve', 'ok', acting(head, at('10:20')));
    assert.equal(
      [exception?.approvedBy, exception?.requestedBy, exception?.requestId, exception?.startsAt, exception?.expiresAt],
      ['head.patel', 't.smith', r1.id, at('10:20'), at('11:00')],
    );
    assert.equal([request.state, request.exceptionId], ['approved', exception?.id]);
    const twice = await refusal(decideRequest(storage, loaded, r1.id, 'decline', '', acting(head, at('10:21'))));
    assert.is(twice.status, 409);
    const { request: r2 } = await makeRequest(storage, loaded, { ...ask, categories: ['youtube'] }, teacher, acting(teacher));
    assert.is((await decideRequest(storage, loaded, r2.id, 'decline', 'no', acting(head))).request.state, 'declined');
    assert.is((await refusal(decideRequest(storage, loaded, 99, 'approve', '', acting(head)))).status, 404);
    const { loaded: ictMay } = await setup(', ict_may_approve: true');
    const { request: r3 } = await makeRequest(storage, ictMay, ask, teacher, acting(teacher));
    const byIct = await decideRequest(storage, ictMay, r3.id, 'approve', '', acting({ name: 'ict.admin', role: 'ict' }));
    assert.is(byIct.exception?.approvedBy, 'ict.admin');
  } finally {
    await storage.close();
  }
});

test('approval re-checks the exception rules: a category locked since the request is refused', async () => {
  const { loaded, storage } = await setup();
  try {
    const { request } = await makeRequest(storage, loaded, ask, teacher, acting(teacher));
    const locked = structuredClone(loaded);
    (locked.config.categories.instagram as { locked: boolean }).locked = true;
    const p = await refusal(decideRequest(storage, locked, request.id, 'approve', '', acting(head)));
    assert.is(p.status, 400);
    assert.match(p.message, /"instagram" is locked/);
    assert.is((await storage.requests.byId(request.id))?.state, 'pending');
    assert.equal(await storage.exceptions.all(), []);
  } finally {
    await storage.close();
  }
});

test('a pending request past its start reads as expired before the sweep records it', async () => {
  const { loaded, storage } = await setup();
  try {
    const { request } = await makeRequest(
      storage,
      loaded,
      { ...ask, lesson: undefined, from: '10:30', until: '20m' },
      teacher,
      acting(teacher),
    );
    assert.is(request.startsAt, at('10:30'));
    assert.is(stateAt(request, at('10:29')), 'pending');
    assert.is(stateAt(request, at('10:30')), 'expired');
    const late = await refusal(decideRequest(storage, loaded, request.id, 'approve', '', acting(head, at('10:30'))));
    assert.is(late.status, 409);
  } finally {
    await storage.close();
  }
});

test('standing permission: approved as asked, recorded as the standing permission, the teacher still recorded', async () => {
  const { loaded, storage } = await setup(', auto_approve: { room-12: [youtube] }');
  try {
    const { request, exception } = await makeRequest(
      storage,
      loaded,
      { ...ask, categories: ['youtube'] },
      teacher,
      acting(teacher),
    );
    assert.equal([request.state, request.decidedBy], ['approved', STANDING_PERMISSION]);
    assert.equal(
      [exception?.approvedBy, exception?.requestedBy, exception?.createdBy],
      [STANDING_PERMISSION, 't.smith', 'requests.auto_approve'],
    );
    const mixed = await makeRequest(storage, loaded, { ...ask, categories: ['youtube', 'instagram'] }, teacher, acting(teacher));
    assert.is(mixed.request.state, 'pending', 'a category without standing permission waits for an approver');
  } finally {
    await storage.close();
  }
});

test.run();
