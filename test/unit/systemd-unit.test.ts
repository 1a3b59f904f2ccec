/** The shipped systemd unit's sandbox, scored by Debian's own `systemd-analyze security` (≤ 4.0 is "OK"). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
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

test.run();
