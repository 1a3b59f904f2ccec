/**
 * End-to-end: after a bad edit of the config (which the daemon's reload keeps out), the read-only
 * commands and `status` still work from the last config the daemon loaded, with a warning naming
 * the problems; the commands that change something refuse.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastGoodPath } from '../../src/config/last-good.js';
import { cli } from '../helpers/cli.js';
import { startDaemon, testConfig, LISTS } from '../helpers/daemon-process.js';
import { udpQuery } from '../helpers/dns-client.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { until } from '../helpers/wait.js';
import { query, reply, rr } from '../helpers/wire-builder.js';

test('a broken config on disk: status, exception list, logs, report, export, check and lists show fall back with a warning; exception add refuses', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  try {
    const d = await startDaemon(testConfig({ upstreams: [up.port], database: 'flush_ms: 20' }), LISTS);
    try {
      const W = (...args: string[]) => cli(['--config', d.configFile, ...args]);
      await udpQuery(d.port, query('www.facebook.com'), { localAddress: '127.0.0.10' });
      const added = await W(
        'exception',
        'add',
        '--group',
        'students',
        '--category',
        'instagram',
        '--for',
        '1h',
        '--reason',
        'r',
        '--approved-by',
        'h',
      );
      assert.is(added.code, 0, added.stderr);
      await until(() => existsSync(lastGoodPath(path.join(d.dir, 'webfilter.db'))), 'the last good config beside the database');

      // A typo: an unknown key and a bad CIDR. The daemon's reload keeps it out.
      writeFileSync(
        d.configFile,
        testConfig({ upstreams: [up.port] }).replace(
          'students: { clients: [127.0.0.10/32]',
          'students: { clients: [127.0.0.10/33], colour: red',
        ),
      );
      d.child.kill('SIGHUP');
      await d.waitForLog((l) => l.msg === 'reload rejected: keeping the previous config');

      const warning =
        /warning: .*webfilter\.yaml has problems[\s\S]*clients\[0\][\s\S]*colour[\s\S]*using the last config the daemon loaded/;
      const status = await W('status', '--json');
      assert.ok(status.code === 0 || status.code === 1, `status runs (${status.code}): ${status.stderr}`);
      assert.is(JSON.parse(status.stdout).daemon, 'running');
      assert.match(status.stderr, warning);
      for (const args of [
        ['exception', 'list', '--json'],
        ['logs', 'blocked', '--json'],
        ['report', '--json'],
        ['export', '--client', '127.0.0.10'],
        ['check', 'www.instagram.com', '--group', 'students', '--json'],
        ['lists', 'show', '--json'],
      ]) {
        const r = await W(...args);
        assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, warning, args.join(' '));
        JSON.parse(r.stdout);
      }
      assert.is(JSON.parse((await W('exception', 'list', '--json')).stdout).length, 1);
      assert.is(
        JSON.parse((await W('check', 'www.instagram.com', '--group', 'students', '--json')).stdout).decision,
        'exception',
      );

      const refused = await W(
        'exception',
        'add',
        '--group',
        'students',
        '--category',
        'facebook',
        '--for',
        '1h',
        '--reason',
        'r',
        '--approved-by',
        'h',
      );
      assert.is(refused.code, 1);
      assert.match(refused.stderr, /the config has problems/);
      assert.not.match(refused.stderr, /using the last config/);
      const check = await cli(['config', 'check', d.configFile]);
      assert.is(check.code, 1, 'config check never falls back');
    } finally {
      await d.stop();
    }
  } finally {
    await up.close();
  }
});

test('no fallback for another config file, or before the daemon ever ran', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  try {
    const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
    await until(() => existsSync(lastGoodPath(path.join(d.dir, 'webfilter.db'))), 'the last good config');
    await d.stop();
    // A second, broken config in the same directory, with the same database: not the file the daemon loaded.
    const other = path.join(d.dir, 'other.yaml');
    writeFileSync(other, testConfig({ upstreams: [up.port] }).replace('strategy: failover', 'strategy: fastest'));
    const r = await cli(['--config', other, 'exception', 'list']);
    assert.is(r.code, 1);
    assert.match(r.stderr, /the config has problems/);
  } finally {
    await up.close();
  }
});

test.run();
