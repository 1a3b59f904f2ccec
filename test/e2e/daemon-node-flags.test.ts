/**
 * The node flags the daemon ships with (an 8 MB semi-space: ~20 MB less resident memory, shorter
 * collection pauses; bench/PROFILE.md "Issue 21: the young generation") are the same wherever it is
 * started — the systemd unit, the Dockerfile, the bench — and reach every DNS process: V8 sizes the
 * heap when node starts, so a flag the worker processes did not get would not apply to them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../bench/servers.js';
import { LISTS, ROOT, startDaemon, testConfig } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { reply } from '../helpers/wire-builder.js';

/** The words between the node binary and the script in `line` (node FLAGS… /…/dist/cli.js). */
function nodeFlags(words: string[]): string[] {
  const script = words.findIndex((w) => w.endsWith('dist/cli.js'));
  assert.ok(script > 0, `no dist/cli.js in ${words.join(' ')}`);
  return words.slice(1, script);
}

test('the systemd unit, the Dockerfile and the bench start the daemon with the same node flags', () => {
  assert.ok(DAEMON_NODE_FLAGS.length > 0);
  const unit = readFileSync(path.join(ROOT, 'systemd/webfilter.service'), 'utf8');
  const exec = /^ExecStart=(.*)$/m.exec(unit)![1].split(/\s+/);
  assert.equal(nodeFlags(exec), DAEMON_NODE_FLAGS, 'systemd/webfilter.service ExecStart');
  const docker = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(docker)![1]) as string[];
  assert.equal(nodeFlags(entry), DAEMON_NODE_FLAGS, 'Dockerfile ENTRYPOINT');
});

/** The command line of `pid` and of its child processes (the DNS workers), from /proc. */
function commandLines(pid: number): { pid: number; args: string[] }[] {
  const out = [{ pid, args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) }];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(') ') + 2).split(' ')[1]) !== pid) continue;
      out.push({ pid: Number(name), args: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('with server.workers: 2, each DNS worker process runs with the flags the daemon was given', async () => {
  const up = await startFakeUpstream((q) => reply(q, {}));
  const d = await startDaemon(
    testConfig({ upstreams: [up.port], server: '  listen: ["127.0.0.1:0"]\n  allowed_clients: [127.0.0.0/8]\n  workers: 2' }),
    LISTS,
    { nodeArgs: DAEMON_NODE_FLAGS },
  );
  try {
    const procs = commandLines(d.child.pid!);
    assert.is(procs.length, 3, `the primary and two workers: ${JSON.stringify(procs)}`);
    for (const p of procs) assert.equal(nodeFlags(p.args), DAEMON_NODE_FLAGS, `process ${p.pid}: ${p.args.join(' ')}`);
  } finally {
    await d.stop();
    await up.close();
  }
});

test.run();
