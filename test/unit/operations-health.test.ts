/**
 * In-process: how `webfilter status` judges the daemon (exit 0/1/2), where the console's TLS files
 * are read from (systemd credentials), and `config check`'s file access checks as the service user.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { judgeHealth, STATUS_EXIT, type HealthInputs } from '../../src/commands/daemon-health.js';
import { checkConfig } from '../../src/commands/config-check.js';
import { loadConfig } from '../../src/config/load.js';
import { readTls, tlsSource } from '../../src/console/tls-files.js';
import type { HeartbeatRecord } from '../../src/storage/evidence.js';
import { tempDir, testConfig, LISTS } from '../helpers/daemon-process.js';

const NOW = Date.UTC(2026, 10, 30, 10, 0, 0);
const beat = (over: Partial<HeartbeatRecord> = {}): HeartbeatRecord => ({
  pid: 4242,
  version: '1',
  startedAt: NOW - 60_000,
  lastSeen: NOW - 5000,
  lastWrite: NOW - 5000,
  dropped: 0,
  writeErrors: 0,
  components: {
    console: { state: 'up', detail: 'http://127.0.0.1:8080/', since: NOW },
    metrics: { state: 'up', detail: 'http://127.0.0.1:9253/metrics', since: NOW },
    evidence: { state: 'up', detail: '/var/lib/webfilter/webfilter.db', since: NOW },
  },
  ...over,
});
const ready = { answered: true as const, body: { status: 'ready' as const } };
const judge = (over: Partial<HealthInputs>) =>
  judgeHealth({ now: NOW, heartbeat: beat(), pidAlive: true, readyz: ready, ...over });

test('status: healthy, degraded or not running, and its exit codes', () => {
  assert.equal(STATUS_EXIT, { healthy: 0, degraded: 1, 'not running': 2 });
  assert.equal(judge({}).state, 'healthy');
  assert.equal(judge({ readyz: null }).state, 'healthy', 'metrics turned off: the heartbeat says enough');

  const notReady = judge({ readyz: { answered: true, body: { status: 'not ready', reason: 'no upstream has answered' } } });
  assert.equal([notReady.state, notReady.problems], ['degraded', ['no upstream has answered']]);

  const consoleDown = judge({
    readyz: {
      answered: true,
      body: { status: 'degraded', components: { console: { state: 'down', detail: 'console.listen: EADDRINUSE', since: NOW } } },
    },
  });
  assert.equal([consoleDown.state, consoleDown.problems], ['degraded', ['console: console.listen: EADDRINUSE']]);

  const noMetrics = judge({ readyz: { answered: false, reason: 'no answer from http://127.0.0.1:9253/readyz' } });
  assert.equal(noMetrics.problems, ['metrics: no answer from http://127.0.0.1:9253/readyz']);
  const metricsDown = judge({
    heartbeat: beat({ components: { metrics: { state: 'down', detail: 'listen EADDRINUSE', since: NOW } } }),
    readyz: { answered: false, reason: 'no answer' },
  });
  assert.equal(metricsDown.problems, ['metrics: listen EADDRINUSE'], 'said once, from the heartbeat');

  const channel = { channel: 'email', sent: 3, failed: 2, abandoned: 0, queued: 1, updatedAt: NOW, lastError: 'ECONNREFUSED' };
  const mailDown = judge({ alertChannels: [{ ...channel, lastSent: NOW - 7200_000, lastFailed: NOW - 60_000 }] });
  assert.equal(mailDown.state, 'degraded', 'the DSL is not being told');
  assert.match(mailDown.problems.join(), /alerts: email failing since .*ECONNREFUSED/);
  const mailBack = judge({ alertChannels: [{ ...channel, lastSent: NOW - 30_000, lastFailed: NOW - 60_000 }] });
  assert.equal(mailBack.state, 'healthy', 'sent since the last failure');

  const noHeartbeat = judge({ heartbeat: null });
  assert.equal(noHeartbeat.state, 'degraded', 'running (readyz answers) but writing no heartbeat');
  assert.match(noHeartbeat.problems.join(), /evidence: no heartbeat written yet/);

  for (const [name, over] of [
    ['never ran', { heartbeat: null, readyz: null }],
    ['stale heartbeat', { heartbeat: beat({ lastSeen: NOW - 60_000 }), readyz: { answered: false, reason: 'x' } }],
    ['process gone', { pidAlive: false, readyz: { answered: false, reason: 'x' } }],
  ] as [string, Partial<HealthInputs>][]) {
    assert.is(judge(over).state, 'not running', name);
  }
});

function consoleTlsConfig(dir: string): string {
  return testConfig({
    upstreams: [53],
    extra: 'console: { enabled: true, listen: "127.0.0.1:0", tls: { cert: console.crt, key: console.key } }',
  });
}

test('the console’s TLS files come from a systemd credential when there is one', async () => {
  const dir = tempDir({ ...LISTS, 'console.crt': 'CERT FILE', 'console.key': 'KEY FILE' });
  writeFileSync(path.join(dir, 'webfilter.yaml'), consoleTlsConfig(dir));
  const loaded = await loadConfig(path.join(dir, 'webfilter.yaml'));
  assert.is(tlsSource(loaded, 'key', {}), path.join(dir, 'console.key'));
  const creds = path.join(dir, 'credentials');
  mkdirSync(creds);
  writeFileSync(path.join(creds, 'console.key'), 'KEY CREDENTIAL');
  assert.is(tlsSource(loaded, 'key', { CREDENTIALS_DIRECTORY: creds }), path.join(creds, 'console.key'));
  assert.is(
    tlsSource(loaded, 'cert', { CREDENTIALS_DIRECTORY: creds }),
    path.join(dir, 'console.crt'),
    'no cert credential: the file',
  );
  const saved = process.env.CREDENTIALS_DIRECTORY;
  process.env.CREDENTIALS_DIRECTORY = creds;
  try {
    assert.equal(
      Object.values(readTls(loaded)!).map((b) => b.toString()),
      ['CERT FILE', 'KEY CREDENTIAL'],
    );
  } finally {
    if (saved === undefined) delete process.env.CREDENTIALS_DIRECTORY;
    else process.env.CREDENTIALS_DIRECTORY = saved;
  }
});

async function check(file: string, as?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        add(String(chunk));
        done();
      },
    });
  const code = await checkConfig(
    file,
    sink((s) => (out += s)),
    sink((s) => (err += s)),
    { as },
  );
  return { code, out, err };
}

test('config check: the TLS key and the database directory, as the service user, saying as whom', async () => {
  const dir = tempDir({ ...LISTS, 'console.crt': 'CERT', 'console.key': 'KEY' });
  chmodSync(dir, 0o755);
  for (const f of Object.keys(LISTS)) chmodSync(path.join(dir, f), 0o644);
  chmodSync(path.join(dir, 'console.crt'), 0o644);
  chmodSync(path.join(dir, 'console.key'), 0o600); // the owner's only: not nobody's
  const file = path.join(dir, 'webfilter.yaml');
  writeFileSync(file, consoleTlsConfig(dir));
  const asNobody = await check(file, 'nobody');
  assert.is(asNobody.code, 1);
  assert.match(asNobody.err, /problem.* for nobody \(uid \d+\)/);
  assert.match(asNobody.err, /console\.tls\.key: .*console\.key is not readable by nobody .*LoadCredential=console\.key:/);
  assert.match(asNobody.err, /database\.path: .* is not writable by nobody/);

  chmodSync(path.join(dir, 'console.key'), 0o644);
  const data = path.join(dir, 'data');
  mkdirSync(data, { mode: 0o777 });
  chmodSync(data, 0o777);
  writeFileSync(file, consoleTlsConfig(dir).replace('database: { path: webfilter.db', 'database: { path: data/sub/webfilter.db'));
  const ok = await check(file, 'nobody');
  assert.is(ok.code, 0, ok.err);
  assert.match(ok.err, /note: files checked as nobody \(uid \d+\)/);

  writeFileSync(path.join(dir, 'blocker'), 'a file');
  writeFileSync(file, consoleTlsConfig(dir).replace('database: { path: webfilter.db', 'database: { path: blocker/webfilter.db'));
  const notDir = await check(file);
  assert.is(notDir.code, 1);
  assert.match(notDir.err, /database\.path: .*blocker is not a directory/);
});

test('config check: the accounts file beside the database, usable by the service user and by nobody else', async () => {
  const dir = tempDir(LISTS);
  chmodSync(dir, 0o755);
  for (const f of Object.keys(LISTS)) chmodSync(path.join(dir, f), 0o644);
  const data = path.join(dir, 'data');
  mkdirSync(data);
  chmodSync(data, 0o777);
  const file = path.join(dir, 'webfilter.yaml');
  writeFileSync(
    file,
    testConfig({ upstreams: [53] }).replace('database: { path: webfilter.db', 'database: { path: data/webfilter.db'),
  );
  const accounts = path.join(data, 'webfilter-accounts.db');
  writeFileSync(accounts, '', { mode: 0o600 }); // made by root (this test) and never handed over
  const notHis = await check(file, 'nobody');
  assert.is(notHis.code, 1, notHis.err);
  assert.match(notHis.err, /database\.path: .*webfilter-accounts\.db is not readable and writable by nobody/);

  chmodSync(accounts, 0o666);
  const open = await check(file, 'nobody');
  assert.is(open.code, 0, open.err);
  assert.match(
    open.err,
    /warning: database\.path: .*webfilter-accounts\.db \(the console accounts .*\) has mode 0666, but only the service user may read it/,
  );
});

test.run();
