/** End-to-end: least privilege — bind as root, then run as the configured unprivileged user. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chownSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RCODE } from '../../src/dns/constants.js';
import { CLI, startDaemon, tempDir, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const answer = (q: Buffer) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] });

/** The real, effective, saved and filesystem ids of a process, from /proc. */
function procIds(pid: number): { uids: number[]; gids: number[]; groups: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    (status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return { uids: field('Uid'), gids: field('Gid'), groups: field('Groups') };
}

test(`root: binds port 53, then runs as nobody; the database belongs to nobody, 0640${isRoot ? '' : ' (SKIPPED: needs root; CI runs as root)'}`, async () => {
  if (!isRoot) return;
  const up = await startFakeUpstream(answer);
  const config = testConfig({ upstreams: [up.port] })
    .replace('listen: ["127.0.0.1:0"]', 'listen: ["127.0.0.77:53"]\n  user: nobody\n  group: nogroup')
    .replace('allowed_clients: [', 'allowed_clients: [127.0.0.77/32, ');
  // The service user must be able to read its config and lists (SIGHUP) and write its database.
  const d = await startDaemon(config, LISTS, {
    beforeStart: (dir) => {
      chownSync(dir, NOBODY, NOBODY);
      for (const f of readdirSync(dir)) chownSync(path.join(dir, f), NOBODY, NOBODY);
    },
  });
  try {
    assert.is(d.port, 53);
    const ids = procIds(d.child.pid!);
    assert.equal(ids.uids, [NOBODY, NOBODY, NOBODY, NOBODY], 'no uid 0 left, not even the saved one');
    assert.equal(ids.gids, [NOBODY, NOBODY, NOBODY, NOBODY]);
    assert.equal(ids.groups, [NOBODY], 'no supplementary groups of root kept');
    const r = await udpQuery(53, query('www.example.org'), { host: '127.0.0.77', localAddress: '127.0.0.77' });
    assert.is(header(r!).rcode, RCODE.NOERROR, 'still answers on port 53');
    const blocked = await udpQuery(53, query('www.facebook.com'), { host: '127.0.0.77', localAddress: '127.0.0.77' });
    assert.is(header(blocked!).rcode, RCODE.NXDOMAIN);
    // The database is created after the switch, by the service user, holding personal data: 0640.
    const db = path.join(d.dir, 'webfilter.db');
    for (let i = 0; i < 50 && !safeStat(db); i++) await new Promise((res) => setTimeout(res, 100));
    const st = statSync(db);
    assert.is(st.uid, NOBODY);
    assert.is(st.mode & 0o777, 0o640);
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'reloaded', 5000);
  } finally {
    await d.stop();
    await up.close();
  }
});

test('a server.user the process cannot become stops the start with a message naming server.user', () => {
  const dir = tempDir({
    ...LISTS,
    'webfilter.yaml': testConfig({ upstreams: [1] }).replace(
      'listen: ["127.0.0.1:0"]',
      'listen: ["127.0.0.1:0"]\n  user: no-such-user-webfilter',
    ),
  });
  const r = spawnSync(process.execPath, [CLI, 'serve', '--config', path.join(dir, 'webfilter.yaml')], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.is(r.status, 1);
  assert.match(r.stdout + r.stderr, /server\.user/);
});

function safeStat(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

test.run();
