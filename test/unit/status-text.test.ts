/**
 * In-process: how `webfilter status` lays out its text (each part of the daemon on its own line at
 * the same level as the upstream lines, not indented under them as if it were the upstream's), the
 * README's example lines, and times in the config's timezone (the problems too), also when the CLI
 * falls back to the last config the daemon loaded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { judgeHealth } from '../../src/commands/daemon-health.js';
import { loadForCli } from '../../src/commands/context.js';
import { statusText, type StatusResult } from '../../src/commands/status-text.js';
import { loadConfig } from '../../src/config/load.js';
import { saveLastGood } from '../../src/config/last-good.js';
import { LISTS, tempDir, testConfig } from '../helpers/daemon-process.js';
import { inTimezone } from '../helpers/timezone.js';

const NOW = Date.UTC(2026, 10, 30, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

const result = (over: Partial<StatusResult> = {}): StatusResult => ({
  daemon: 'running',
  state: 'healthy',
  problems: [],
  components: {
    console: { state: 'up', detail: 'http://127.0.0.1:8080/', since: NOW },
    metrics: { state: 'up', detail: 'http://127.0.0.1:9253/metrics', since: NOW },
    evidence: { state: 'up', detail: '/var/lib/webfilter/webfilter.db', since: NOW },
    shared: { state: 'down', detail: 'PostgreSQL at webfilter@db:5432/webfilter is unreachable', since: NOW },
  },
  health: {
    status: 'ready',
    upstreams: [
      { upstream: 'tls://1.1.1.3:853', transport: 'tls', healthy: true, last: null, error: null },
      { upstream: '10.1.2.54:53', transport: 'udp', healthy: false, last: 'udp', error: 'timeout' },
    ],
  } as StatusResult['health'],
  database: '/var/lib/webfilter/webfilter.db',
  pid: 4242,
  version: '1.0.0',
  started_at: iso(NOW - 3_600_000),
  last_heartbeat: iso(NOW - 5000),
  last_write: iso(NOW - 5000),
  queue_dropped: 1,
  write_errors: 0,
  shipping: { backlog_rows: 1204, lag_seconds: 190 },
  active_exceptions: [{ id: 7, target: 'group room-12', opens: ['instagram'], expires_at: iso(NOW + 50 * 60_000) }],
  alerts: null,
  ...over,
});

test('status: every part of the daemon is its own line at the level of the upstream lines, not under them', async () => {
  const text = await inTimezone('Europe/London', () => statusText(result(), NOW, null));
  const lines = text.trimEnd().split('\n');
  const at = (label: string) => lines.findIndex((l) => l.startsWith(`${label}:`));
  for (const part of ['console', 'metrics', 'evidence', 'shared'])
    assert.ok(at(part) > at('upstream'), `${part}: its own line at the top level, after the upstreams\n${text}`);
  assert.not.match(text, /^\s+(console|metrics|evidence|shared|upstream):/m, 'no part indented under another');
  // Every top-level value starts in one column (13: "database:    ").
  for (const l of lines.filter((x) => /^[a-z]/.test(x))) assert.match(l, /^[a-z ]+: +\S/, l);
  for (const l of lines.filter((x) => /^[a-z]/.test(x))) assert.is(l.search(/(?<=: +)\S/), 13, l);
  assert.ok(lines.includes('evidence:    up — /var/lib/webfilter/webfilter.db'), text);
  assert.ok(lines.includes('shared:      down — PostgreSQL at webfilter@db:5432/webfilter is unreachable'), text);
  // The README's examples of these lines ("Encrypted upstreams", "Evidence during an outage").
  assert.ok(lines.includes('upstream:    tls://1.1.1.3:853 [DNS over TLS] healthy'), text);
  assert.ok(lines.includes('upstream:    10.1.2.54:53 [plain DNS] failing (last: udp) — timeout'), text);
  assert.ok(lines.includes('shipping:    1204 evidence rows waiting for the shared store, oldest change 3m ago'), text);
  assert.ok(lines.includes('daemon:      healthy (pid 4242, version 1.0.0, up since Mon, 30 Nov 2026, 09:00:00 GMT)'), text);
  assert.ok(lines.includes('last write:  Mon, 30 Nov 2026, 09:59:55 GMT; 1 event dropped, 0 write errors'), text);
  // Only the exceptions' lines (and the daemon's problems) are indented, under their own line.
  assert.is(lines[at('exceptions') + 1], '  7: instagram for group room-12, 50m left');
});

test('status: the problems name their times in the config’s timezone, as every other time the CLI prints', async () => {
  const text = await inTimezone('Europe/London', () => {
    const health = judgeHealth({
      now: NOW,
      heartbeat: {
        pid: 4242,
        version: '1',
        startedAt: NOW - 3_600_000,
        lastSeen: NOW - 120_000,
        lastWrite: NOW - 120_000,
        dropped: 0,
        writeErrors: 0,
        components: {},
      },
      pidAlive: true,
      readyz: { answered: true, body: { status: 'ready' } },
      alertChannels: [
        {
          channel: 'email',
          sent: 0,
          failed: 1,
          abandoned: 0,
          queued: 1,
          updatedAt: NOW,
          lastSent: null,
          lastFailed: NOW - 60_000,
          lastError: 'ECONNREFUSED',
        },
      ],
    });
    return statusText(result({ state: health.state, problems: health.problems, components: health.components }), NOW, null);
  });
  assert.match(text, /^ {2}problem: {3}evidence: no heartbeat written since Mon, 30 Nov 2026, 09:58:00 GMT/m);
  assert.match(text, /^ {2}problem: {3}alerts: email failing since Mon, 30 Nov 2026, 09:59:00 GMT \(ECONNREFUSED\)/m);
  assert.not.match(text, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, 'no ISO UTC time in the text');
});

test('a broken config on disk: the last good config’s timezone is used for the times shown, and its save time is local', async () => {
  const dir = tempDir(LISTS);
  const file = path.join(dir, 'webfilter.yaml');
  writeFileSync(file, testConfig({ upstreams: [53], extra: 'timezone: Europe/London' }));
  await saveLastGood(await loadConfig(file), Date.UTC(2026, 6, 1, 14, 30, 0));
  writeFileSync(file, testConfig({ upstreams: [53], extra: 'timezone: Europe/London\ncolour: red' }));
  const write = process.stderr.write;
  let warned = '';
  process.stderr.write = ((s: string) => ((warned += s), true)) as typeof process.stderr.write;
  try {
    await inTimezone('UTC', async () => {
      const loaded = await loadForCli(file, { fallback: true });
      assert.is(loaded.config.timezone, 'Europe/London');
      assert.is(process.env.TZ, 'Europe/London', 'times are shown in the config’s timezone, not the host’s');
    });
  } finally {
    process.stderr.write = write;
  }
  assert.match(warned, /using the last config the daemon loaded \(saved Wed, 01 Jul 2026, 15:30:00 BST\)/);
});

test.run();
