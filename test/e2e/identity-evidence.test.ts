/**
 * End-to-end: what the evidence says about a user named by RADIUS accounting (FreeRADIUS's
 * radclient): the blocked attempt carries the user, `logs --user`, `export --user`, `identity list`
 * and `check --client` say who and which group applied, and the mapping survives a restart.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { RCODE } from '../../src/dns/constants.js';
import { cli } from '../helpers/cli.js';
import { startDaemon, testConfig, type DaemonProcess } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { radclientAcct } from '../helpers/radclient.js';
import { until } from '../helpers/wait.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const SECRET = 'evidence-test-secret';

const config = (upPort: number) =>
  testConfig({
    upstreams: [upPort],
    server: '  listen: ["127.0.0.1:0"]\n  allowed_clients: [127.0.0.0/8]',
    categories: '  facebook: [facebook.txt]\n  instagram: [instagram.txt]',
    groups:
      '  staff: { block: [instagram] }\n  students: { clients: [127.0.0.40/29], block: [facebook, instagram] }\n  default: { block: [facebook] }',
    database: 'flush_ms: 20',
    extra: `identity:
  radius_accounting: { listen: ["127.0.0.1:0"], clients: [{ address: 127.0.0.1, secret_file: radius-secret }] }`,
  });

const radiusPort = (d: DaemonProcess) =>
  Number(
    String((d.logs.find((l) => l.msg === 'webfilter listening')!.radius as string[])[0])
      .split(':')
      .pop(),
  );

async function rcode(d: DaemonProcess, name: string): Promise<number> {
  const r = await udpQuery(d.port, query(name), { localAddress: '127.0.0.41' });
  assert.ok(r, `no answer for ${name}`);
  return header(r!).rcode;
}

test('a blocked attempt is recorded with the user; logs, export, identity list and check say who; a restart keeps the mapping', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const files = { 'facebook.txt': 'facebook.com\n', 'instagram.txt': 'instagram.com\n', 'radius-secret': `${SECRET}\n` };
  const secure = (dir: string) => chmodSync(path.join(dir, 'radius-secret'), 0o600);
  let d = await startDaemon(config(up.port), files, { beforeStart: secure });
  const W = (...args: string[]) => cli(['--config', d.configFile, ...args]);
  try {
    const start = await radclientAcct(
      radiusPort(d),
      SECRET,
      'Acct-Status-Type = Start, User-Name = "j.smith", Framed-IP-Address = 127.0.0.41, Filter-Id = "staff", Calling-Station-Id = "AA-BB-CC-00-11-22", Acct-Session-Id = "e-1"',
    );
    assert.ok(start.answered);
    await until(async () => (await rcode(d, 'www.facebook.com')) === RCODE.NOERROR, 'staff policy for 127.0.0.41');
    assert.is(await rcode(d, 'www.instagram.com'), RCODE.NXDOMAIN, 'staff block instagram');

    const logs = await until(async () => {
      const r = await W('logs', 'blocked', '--user', 'j.smith', '--json');
      const rows = JSON.parse(r.stdout || '[]') as Record<string, unknown>[];
      return rows.length > 0 ? rows : undefined;
    }, 'the blocked attempt in logs --user');
    assert.equal(
      logs.map((r) => [r.client, r.group, r.user, r.qname, r.category]),
      [['127.0.0.41', 'staff', 'j.smith', 'www.instagram.com', 'instagram']],
    );
    assert.equal(JSON.parse((await W('logs', 'blocked', '--user', 'someone.else', '--json')).stdout), []);

    const exported = JSON.parse((await W('export', '--user', 'j.smith', '--json')).stdout);
    assert.equal(exported.subject, { user: 'j.smith' });
    assert.equal(
      exported.blocked.map((r: { qname: string }) => r.qname),
      ['www.instagram.com'],
    );

    const listed = await until(async () => {
      const rows = JSON.parse((await W('identity', 'list', '--json')).stdout) as Record<string, unknown>[];
      return rows.length > 0 ? rows : undefined;
    }, 'the mapping in the store');
    assert.equal(
      listed.map((r) => [r.address, r.user, r.group, r.group_applies, r.mac, r.session, r.source, r.reporter]),
      [['127.0.0.41', 'j.smith', 'staff', true, 'aa:bb:cc:00:11:22', 'e-1', 'radius', '127.0.0.1']],
    );

    const checked = JSON.parse((await W('check', 'www.facebook.com', '--client', '127.0.0.41', '--json')).stdout);
    assert.equal(
      [checked.group, checked.decision, checked.user.name, checked.user.applied],
      ['staff', 'allowed', 'j.smith', true],
    );
    const text = (await W('check', 'www.facebook.com', '--client', '127.0.0.41')).stdout;
    assert.match(text, /user: {6}j\.smith \(radius from 127\.0\.0\.1, until .*\): the user's group staff applies/);

    // A restart: the mapping comes back from the store, so the staff policy holds at once.
    assert.is((await d.stop()).code, 0);
    d = await startDaemon(config(up.port), files, { dir: d.dir, beforeStart: secure });
    await d.waitForLog((l) => l.msg === 'identity mappings restored from the store');
    assert.is(await rcode(d, 'www.facebook.com'), RCODE.NOERROR, 'still staff after the restart');
  } finally {
    assert.is((await d.stop()).code, 0);
    await up.close();
  }
});

test.run();
