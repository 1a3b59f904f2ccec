/**
 * The review commands of a filter with `shared` set (issue 17), the real CLI against a real
 * PostgreSQL holding two schools' evidence: by default they read this filter's site only; another
 * site or the whole trust needs a console account whose scope holds it (its password checked); a
 * row of site B (every name of it carries "kshsecret") never reaches a reader of site A, in any log,
 * report, export or review.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { addUser } from '../../src/accounts/users.js';
import { loadConfig } from '../../src/config/load.js';
import { loadStorage, openStorage, storageLocation } from '../../src/storage/open.js';
import type { SharedStorage } from '../../src/storage/shared-storage.js';
import { sitesScope, TRUST_SCOPE } from '../../src/storage/scope.js';
import { cli } from '../helpers/cli.js';
import { LISTS, tempDir, testConfig } from '../helpers/daemon-process.js';
import { NOW, shipAll, SITE_A, SITE_B, siteRows, TAG, twoSites, type TwoSites } from '../helpers/evidence-sites.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';

const PASSWORD = 'console-password-2026';
const A = TAG[SITE_A];
const B = TAG[SITE_B];
const SINCE = new Date(NOW - 3 * 86_400_000).toISOString().slice(0, 10);

let pg: PgCluster;
let s: TwoSites;
let config: string;
const W = (args: string[], input?: string) => cli(['--config', config, ...args], { SUDO_USER: 'oso-a' }, input);

test.before(async () => {
  pg = await startPostgres();
  s = await twoSites(pg, 'cli_scope');
  const dir = tempDir(LISTS);
  config = path.join(dir, 'webfilter.yaml');
  writeFileSync(
    config,
    testConfig({ upstreams: [53], extra: `site: ${SITE_A}\nnode: dns1\nshared: { postgres: { url: "${s.url}" } }` }),
  );
  const store = await loadStorage(storageLocation(await loadConfig(config)), 'write');
  const by = { actor: 'root', ip: 'cli', at: NOW };
  await addUser(store.accounts, 'head.trust', 'reviewer', PASSWORD, by, [], TRUST_SCOPE);
  await addUser(store.accounts, 't.smith', 'teacher', PASSWORD, by, ['students']);
  await addUser(store.accounts, 'oso.b', 'reviewer', PASSWORD, by, [], sitesScope([SITE_B]));
  // The filter's copy of the shared exceptions (the daemon makes it at its first start).
  await store.exceptions.all();
  await store.close();
});

test.after(async () => {
  await s?.close();
  await pg?.destroy();
});

const READS = [
  ['logs', 'blocked', '--since', SINCE, '--json'],
  ['logs', 'signals', '--since', SINCE, '--json'],
  ['logs', 'access', '--since', SINCE, '--json'],
  ['logs', 'blocked', '--since', SINCE],
  ['report', '--since', SINCE, '--format', 'csv'],
  ['export', '--client', '10.20.1.6', '--since', SINCE],
];

test('by default a review command reads this filter’s site from the shared store, and nothing of site B', async () => {
  for (const args of READS) {
    const r = await W(args);
    assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stdout.includes(A), `${args.join(' ')} shows site A`);
    assert.not.ok(r.stdout.includes(B), `${args.join(' ')} shows site B`);
  }
  const table = await W(['logs', 'signals', '--since', SINCE]);
  assert.match(table.stdout, /SITE/, 'the table has a site column');
  const other = await W(['export', '--device', `${B}-lt-1`, '--since', SINCE]);
  assert.is(other.code, 1, 'site B’s device is no device here');
  assert.not.ok(other.stdout.includes(B));
});

test('another site or the whole trust needs an account whose scope holds it; a wrong password or role reads nothing', async () => {
  for (const extra of [['--site', SITE_B], ['--trust']]) {
    const r = await W(['logs', 'blocked', '--since', SINCE, '--json', ...extra]);
    assert.is(r.code, 2, `${extra.join(' ')} alone is refused`);
    assert.match(r.stderr, /--account/);
    assert.not.ok(r.stdout.includes(B));
  }
  const wrong = await W(
    ['logs', 'blocked', '--since', SINCE, '--trust', '--account', 'head.trust', '--password-stdin'],
    'not-it\n',
  );
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /wrong account name or password/);
  assert.not.ok(wrong.stdout.includes(B));
  const teacher = await W(
    ['logs', 'blocked', '--since', SINCE, '--trust', '--account', 't.smith', '--password-stdin'],
    `${PASSWORD}\n`,
  );
  assert.is(teacher.code, 1);
  assert.match(teacher.stderr, /does not see the evidence/);
  const trust = await W(
    ['logs', 'blocked', '--since', SINCE, '--json', '--trust', '--account', 'head.trust', '--password-stdin'],
    `${PASSWORD}\n`,
  );
  assert.is(trust.code, 0, trust.stderr);
  const sites = new Set((JSON.parse(trust.stdout) as { site: string }[]).map((r) => r.site));
  assert.equal([...sites].sort(), [SITE_A, SITE_B]);
  // An account of site B: its own site only, never this filter's site A nor the whole trust.
  const ofB = await W(['logs', 'blocked', '--since', SINCE, '--json', '--account', 'oso.b', '--password-stdin'], `${PASSWORD}\n`);
  assert.is(ofB.code, 0, ofB.stderr);
  assert.ok(ofB.stdout.includes(B) && !ofB.stdout.includes(`${A}-`), 'an account reads its own scope');
  for (const extra of [['--site', SITE_A], ['--trust']]) {
    const no = await W(
      ['logs', 'blocked', '--since', SINCE, '--account', 'oso.b', '--password-stdin', ...extra],
      `${PASSWORD}\n`,
    );
    assert.is(no.code, 1, extra.join(' '));
    assert.match(no.stderr, /may see site kshs, not/);
  }
  const onlyB = await W(
    ['logs', 'signals', '--since', SINCE, '--json', '--site', SITE_B, '--account', 'head.trust', '--password-stdin'],
    `${PASSWORD}\n`,
  );
  assert.is(onlyB.code, 0, onlyB.stderr);
  assert.ok(onlyB.stdout.includes(B) && !onlyB.stdout.includes(`${A}-`));
});

test('PostgreSQL unreachable: a review command says so and points to --local, which reads this box’s own file', async () => {
  // Beside the working config, so the box file made in before (webfilter.db) is this box's own copy.
  const down = path.join(path.dirname(config), 'down.yaml');
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  writeFileSync(
    down,
    testConfig({
      upstreams: [53],
      extra: `site: ${SITE_A}\nnode: dns1\nshared: { postgres: { url: "postgres://webfilter@127.0.0.1:1/webfilter", connect_timeout_ms: 1000 } }`,
    }),
  );
  for (const args of [
    ['logs', 'blocked', '--since', SINCE],
    ['report', '--since', SINCE],
    ['export', '--device', 'x'],
  ]) {
    const r = await cli(['--config', down, ...args], { SUDO_USER: 'oso-a' });
    assert.is(r.code, 1, args.join(' '));
    assert.match(
      r.stderr,
      /is unreachable .*\n.*own copy can still be read: run the same command with --local/,
      `${args.join(' ')}: ${r.stderr}`,
    );
  }
  const local = await cli(['--config', down, 'logs', 'blocked', '--since', SINCE, '--local'], { SUDO_USER: 'oso-a' });
  assert.is(local.code, 0, local.stderr);
});

test('PostgreSQL unreachable: user list cannot list the accounts (nothing was to change); signal review points to --local, and that review reaches the shared store when it is back', async () => {
  // Another filter of site A (dns3) whose own file holds evidence not shipped yet.
  const dir = tempDir(LISTS);
  const shared = (url: string) =>
    `site: ${SITE_A}\nnode: dns3\nshared: { postgres: { url: "${url}", connect_timeout_ms: 1000 } }`;
  const up = path.join(dir, 'webfilter.yaml');
  const down = path.join(dir, 'down.yaml');
  writeFileSync(up, testConfig({ upstreams: [53], extra: shared(s.url) }));
  writeFileSync(down, testConfig({ upstreams: [53], extra: shared('postgres://webfilter@127.0.0.1:1/webfilter') }));
  const box = openStorage(
    { evidencePath: path.join(dir, 'webfilter.db'), accountsPath: path.join(dir, 'webfilter-accounts.db'), site: SITE_A },
    'write',
  );
  await box.evidence.write(siteRows(SITE_A), NOW);
  await box.close();
  const D = (args: string[]) => cli(['--config', down, ...args], { SUDO_USER: 'oso-a' });

  const users = await D(['user', 'list']);
  assert.is(users.code, 1);
  assert.match(
    users.stderr,
    /is unreachable .*: could not .*\nThe console accounts of every filter are kept in the trust's shared store: they cannot be listed until it is back\./,
    users.stderr,
  );
  assert.not.match(users.stderr, /nothing was changed/, 'a read changes nothing');

  const review = await D(['signal', 'review', '1', '--outcome', 'no-action', '--note', 'seen in class']);
  assert.is(review.code, 1);
  assert.match(
    review.stderr,
    /is unreachable .*: could not record the review\nNothing was recorded: .*`webfilter logs signals --local`, then run `webfilter signal review NUMBER --local`/,
    review.stderr,
  );
  // Doing as it says: the signal by its number in this filter's own copy.
  const mine = JSON.parse((await D(['logs', 'signals', '--since', SINCE, '--local', '--json'])).stdout) as {
    id: number;
    kind: string;
  }[];
  const vpn = mine.find((x) => x.kind === 'vpn-proxy')!;
  const local = await D(['signal', 'review', String(vpn.id), '--local', '--outcome', 'no-action', '--note', 'seen in class']);
  assert.is(local.code, 0, local.stderr);

  // PostgreSQL answers again: the filter ships its file; the review and its audit row are in the shared store.
  const filter = (await loadStorage(storageLocation(await loadConfig(up)), 'write')) as SharedStorage;
  try {
    await shipAll(filter);
  } finally {
    await filter.close();
  }
  const db = new URL(s.url).pathname.slice(1);
  const reviewed = await pg.query(
    `SELECT id, kind, review_outcome, review_note, review_by FROM signals WHERE node = 'dns3' AND review_at IS NOT NULL`,
    db,
  );
  assert.equal(
    reviewed.map((r) => [r.kind, r.review_outcome, r.review_note, r.review_by]),
    [['vpn-proxy', 'no-action', 'seen in class', 'oso-a']],
  );
  const [audit] = await pg.query(`SELECT actor, detail, signal_id FROM review_audit WHERE node = 'dns3'`, db);
  assert.equal(
    [audit.actor, audit.detail, String(audit.signal_id)],
    ['oso-a', 'no-action: seen in class', String(reviewed[0].id)],
  );
});

test('signal review: site B’s signal by its number is no signal for this filter’s site; site A’s is reviewed in the shared store', async () => {
  const all = await s.shared.reads({ scope: TRUST_SCOPE }).review.signals({ since: 0, until: NOW + 1 });
  const b = all.find((x) => x.site === SITE_B)!;
  const a = all.find((x) => x.site === SITE_A && !x.review)!;
  const no = await W(['signal', 'review', String(b.id), '--outcome', 'sanction', '--note', 'not ours']);
  assert.is(no.code, 1);
  assert.match(no.stderr, /no signal/);
  assert.is((await s.shared.reads({ scope: TRUST_SCOPE }).signalReviews.signal(b.id))!.review, null);
  const yes = await W(['signal', 'review', String(a.id), '--outcome', 'no-action', '--json']);
  assert.is(yes.code, 0, yes.stderr);
  const done = await s.shared.reads({ scope: TRUST_SCOPE }).signalReviews.signal(a.id);
  assert.equal([done!.review?.outcome, done!.review?.by], ['no-action', 'oso-a']);
});

test.run();
