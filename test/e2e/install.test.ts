/**
 * scripts/install.sh into a temporary root (--destdir): the users and groups, the owners and modes
 * that give the review group lasting read access, the `webfilter` command that runs from there, the
 * unit systemd accepts, and a second run that keeps what ICT edited.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/daemon-process.js';
import { needTool } from '../helpers/tools.js';

const root = mkdtempSync(path.join(tmpdir(), 'webfilter-install-'));
const at = (p: string) => path.join(root, p);

function install(): void {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/install.sh'), '--destdir', root], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.is(r.status, 0, `install.sh failed:\n${r.stdout}\n${r.stderr}`);
}

/** Numeric id of a name in the staging root's passwd or group file. */
function idOf(file: 'passwd' | 'group', name: string): { id: number; fields: string[] } {
  const line = readFileSync(at(`etc/${file}`), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `${name} not in ${file}`);
  const fields = line!.split(':');
  return { id: Number(fields[2]), fields };
}

function owner(p: string): { uid: number; gid: number; mode: string } {
  const s = statSync(at(p));
  return { uid: s.uid, gid: s.gid, mode: (s.mode & 0o7777).toString(8).padStart(4, '0') };
}

test.after(() => rmSync(root, { recursive: true, force: true }));

test('install.sh --destdir: users, groups, owners and modes', () => {
  assert.is(process.getuid?.(), 0, 'install.sh needs root (CI runs as root)');
  install();
  const review = idOf('group', 'webfilter-review').id;
  const user = idOf('passwd', 'webfilter');
  assert.is(Number(user.fields[3]), review, "the service user's group is the review group");
  assert.is(user.fields[5], '/var/lib/webfilter');
  assert.is(user.fields[6], '/usr/sbin/nologin');

  assert.equal(owner('etc/webfilter'), { uid: 0, gid: review, mode: '0750' });
  assert.equal(owner('etc/webfilter/webfilter.yaml'), { uid: 0, gid: review, mode: '0640' });
  assert.equal(owner('etc/webfilter/blocklists/social-media/facebook.txt'), { uid: 0, gid: review, mode: '0640' });
  assert.equal(owner('etc/webfilter/blocklists/illegal-content'), { uid: 0, gid: review, mode: '0750' });
  assert.equal(owner('var/lib/webfilter'), { uid: user.id, gid: review, mode: '0750' });
  assert.equal(owner('etc/systemd/system/webfilter.service'), { uid: 0, gid: 0, mode: '0644' });
  assert.equal(owner('opt/webfilter/dist/cli.js').uid, 0);
  // Production dependencies only.
  assert.not.ok(spawnSync('test', ['-e', at('opt/webfilter/node_modules/typescript')]).status === 0);
  assert.ok(statSync(at('opt/webfilter/node_modules/better-sqlite3')).isDirectory());
});

test('the unit runs as the user and group the script made', () => {
  const unit = readFileSync(at('etc/systemd/system/webfilter.service'), 'utf8');
  assert.match(unit, /^User=webfilter$/m);
  assert.match(unit, /^Group=webfilter-review$/m);
  assert.match(unit, /^StateDirectoryMode=0750$/m);
  // This node, with the daemon's node flags (e2e/daemon-node-flags checks which).
  assert.match(
    unit,
    new RegExp(`^ExecStart=${process.execPath.replace(/[.]/g, '\\.')} (--\\S+ )+/opt/webfilter/dist/cli\\.js serve`, 'm'),
  );
  needTool('systemd-analyze');
  const v = spawnSync('systemd-analyze', ['verify', at('etc/systemd/system/webfilter.service')], { encoding: 'utf8' });
  assert.is(v.status, 0, v.stderr);
  assert.is(v.stderr.trim(), '', `systemd-analyze verify complains:\n${v.stderr}`);
});

test('the webfilter command runs from the staging root: --version and config check', () => {
  const cmd = at('usr/local/bin/webfilter');
  assert.ok(lstatSync(cmd).isSymbolicLink());
  assert.not.ok(path.isAbsolute(readlinkSync(cmd)), 'a relative link, so it works inside and outside the root');
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const v = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  assert.is(v.status, 0, v.stderr);
  assert.is(v.stdout.trim(), version);
  const c = spawnSync(cmd, ['config', 'check', at('etc/webfilter/webfilter.yaml')], { encoding: 'utf8' });
  assert.is(c.status, 0, c.stderr);
  assert.match(c.stdout, /OK/);
});

test('a second run keeps the edited config, leaves secrets alone and adds no second user', () => {
  appendFileSync(at('etc/webfilter/webfilter.yaml'), '# edited by ICT\n');
  // A secret the service reads and the review group must not: owned by webfilter, 0400.
  const uid = idOf('passwd', 'webfilter').id;
  writeFileSync(at('etc/webfilter/radius-secret'), 's3cret\n', { mode: 0o400 });
  chownSync(at('etc/webfilter/radius-secret'), uid, 0);
  writeFileSync(at('var/lib/webfilter/accounts.db'), '', { mode: 0o600 });
  appendFileSync(at('etc/webfilter/blocklists/illegal-content/iwf.txt'), 'example-illegal.test\n');
  install();
  assert.match(readFileSync(at('etc/webfilter/webfilter.yaml'), 'utf8'), /# edited by ICT\n$/);
  assert.match(readFileSync(at('etc/webfilter/blocklists/illegal-content/iwf.txt'), 'utf8'), /example-illegal\.test/);
  const passwd = readFileSync(at('etc/passwd'), 'utf8');
  assert.is(passwd.match(/^webfilter:/gm)?.length, 1);
  assert.is(readFileSync(at('etc/group'), 'utf8').match(/^webfilter-review:/gm)?.length, 1);
  assert.is(owner('var/lib/webfilter').mode, '0750');
  assert.equal(owner('etc/webfilter/radius-secret'), { uid, gid: 0, mode: '0400' }, 'a secret keeps its owner and mode');
  assert.is(owner('var/lib/webfilter/accounts.db').mode, '0600', 'account data stays unreadable by the group');
  const v = spawnSync(at('usr/local/bin/webfilter'), ['--version'], { encoding: 'utf8' });
  assert.is(v.status, 0, v.stderr);
});

test.run();
