/**
 * What the CLI and the daemon say: counts in the right number ("1 group"), a warning for a category
 * that blocks nothing (louder for an empty locked one), and no "exceptions updated" line in the log
 * unless the exceptions changed (a console sign-in used to log one each time).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/daemon-process.js';
import { PASSWORDS, signIn, startConsoleDaemon } from '../helpers/console-client.js';

const CONFIG = `
server: { listen: ["127.0.0.1:0"] }
upstream: { servers: ["127.0.0.1:53"] }
categories:
  facebook: [facebook.txt]
  youtube: [youtube.txt]
  illegal-content: { lists: [iwf.txt], locked: true }
groups:
  default: { block: [facebook, illegal-content] }
database: { path: webfilter.db }
`;
const FILES = {
  'webfilter.yaml': CONFIG,
  'facebook.txt': 'facebook.com\n',
  'youtube.txt': '# nothing yet\n',
  'iwf.txt': '# filled from the IWF list\n',
};

test('config check: singular counts, and a warning for each category that blocks nothing', async () => {
  const dir = tempDir(FILES);
  const r = await cli(['config', 'check', path.join(dir, 'webfilter.yaml')]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /, 1 group, upstream 127\.0\.0\.1:53\n$/);
  assert.not.match(r.stdout, /\b1 (groups|upstreams|list entries)\b/);
  assert.match(r.stderr, /warning: youtube has no entries, so it blocks nothing \(\S+youtube\.txt\)/);
  assert.match(r.stderr, /warning: illegal-content is locked but its lists are empty, so it blocks nothing: fill \S+iwf\.txt/);
});

test('config check takes the file from --config (or $WEBFILTER_CONFIG) like every other command', async () => {
  const dir = tempDir(FILES);
  const file = path.join(dir, 'webfilter.yaml');
  const r = await cli(['config', 'check', '--config', file]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${file}: OK`), r.stdout);
  const e = await cli(['config', 'check'], { WEBFILTER_CONFIG: file });
  assert.is(e.code, 0, e.stderr);
  assert.ok(e.stdout.startsWith(`${file}: OK`), e.stdout);
});

test('lists show and lists update CATEGORY: a category the config does not have is an error (exit 1) naming those it has', async () => {
  const dir = tempDir(FILES);
  for (const cmd of ['show', 'update']) {
    const r = await cli(['lists', cmd, 'instagram', '--config', path.join(dir, 'webfilter.yaml')]);
    assert.is(r.code, 1, `lists ${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /"instagram": no such category \(categories: (.*, )?facebook, youtube, illegal-content\)/);
  }
});

test('lists show warns about empty categories (table and --json)', async () => {
  const dir = tempDir(FILES);
  for (const extra of [[], ['--json']]) {
    const r = await cli(['lists', 'show', '--config', path.join(dir, 'webfilter.yaml'), ...extra]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: youtube has no entries/);
    assert.match(r.stderr, /warning: illegal-content is locked but its lists are empty/);
    assert.not.match(r.stderr, /facebook/);
  }
});

test('a console sign-in does not log "exceptions updated"; a new exception does, once', async () => {
  const c = await startConsoleDaemon();
  try {
    const updates = () => c.d.logs.filter((l) => l.msg === 'exceptions updated').length;
    await c.d.waitForLog((l) => l.msg === 'exceptions updated'); // the first read at start
    const before = updates();
    for (let i = 0; i < 3; i++) assert.ok((await signIn(c.base, 'oso.jones', PASSWORDS.reviewer)).cookie);
    const add = await cli([
      ...['exception', 'add', '--group', 'students', '--category', 'instagram', '--for', '1h'],
      ...['--reason', 'r', '--approved-by', 'Head', '--config', c.d.configFile],
    ]);
    assert.is(add.code, 0, add.stderr);
    // The writer polls in order: lines for the sign-ins would come before the one for the exception.
    await c.d.waitForLog((l) => l.msg === 'exceptions updated' && JSON.stringify(l.exceptions).includes('group students'));
    assert.is(updates(), before + 1);
  } finally {
    await c.stop();
  }
});

test.run();
