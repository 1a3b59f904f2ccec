/** The shipped systemd unit's sandbox, scored by Debian's own `systemd-analyze security` (≤ 4.0 is "OK"). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/daemon-process.js';
import { needTool } from '../helpers/tools.js';

test('systemd-analyze security --offline=yes scores systemd/webfilter.service ≤ 4.0', () => {
  needTool('systemd-analyze');
  const r = spawnSync(
    'systemd-analyze',
    ['security', '--offline=yes', '--no-pager', path.join(ROOT, 'systemd/webfilter.service')],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const m = /Overall exposure level for webfilter\.service: ([\d.]+) (\w+)/.exec(r.stdout);
  assert.ok(m, `no score in: ${r.stdout.slice(-300)} ${r.stderr}`);
  assert.ok(Number(m![1]) <= 4.0, `exposure ${m![1]} ${m![2]}`);
  assert.is(m![2], 'OK');
});

const UNIT = path.join(ROOT, 'systemd/webfilter.service');

test('the unit gives the review group lasting read access (Group, StateDirectoryMode, UMask)', () => {
  needTool('systemd-analyze');
  const unit = readFileSync(UNIT, 'utf8');
  // StateDirectory= resets /var/lib/webfilter to User:Group and StateDirectoryMode on every start, so
  // the review group's access has to come from these settings, not from a chgrp after install.
  assert.match(unit, /^Group=webfilter-review$/m);
  assert.match(unit, /^StateDirectory=webfilter$/m);
  assert.match(unit, /^StateDirectoryMode=0750$/m);
  assert.match(unit, /^ConfigurationDirectoryMode=0750$/m);
  // systemd parses every line (an unknown key or bad value is a warning on stderr, exit code 0).
  const v = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', timeout: 60_000 });
  assert.is(v.status, 0, v.stderr);
  assert.is(v.stderr.trim(), '', v.stderr);
  // And reads the UMask as files readable by the group but not by others.
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--json=short', UNIT], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const umask = (JSON.parse(r.stdout) as { name: string; description: string }[]).find((c) => c.name === 'UMask=');
  assert.is(umask?.description, 'Files created by service are group-readable by default');
});

test.run();
