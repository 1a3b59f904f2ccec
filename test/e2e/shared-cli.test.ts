/** `webfilter shared migrate|status` against a real, throwaway PostgreSQL cluster. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PG_LATEST } from '../../src/storage/postgres/schema.js';
import { cli } from '../helpers/cli.js';
import { LISTS, tempDir, testConfig } from '../helpers/daemon-process.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';

let pg: PgCluster;

test.before(async () => {
  pg = await startPostgres();
});
test.after(async () => {
  await pg?.destroy();
});

test('migrate creates the schema once; status shows the connection and version; an outage is a clear failure without the password', async () => {
  const url = await pg.createDatabase('cli');
  const dir = tempDir(LISTS);
  // The password sits in url_file only (trust authentication ignores it; it must never be printed).
  writeFileSync(path.join(dir, 'pg-url'), url.replace('postgres@', 'postgres:Sup3rSecret@'), { mode: 0o600 });
  const config = path.join(dir, 'c.yaml');
  writeFileSync(
    config,
    testConfig({
      upstreams: [53],
      extra:
        'site: carres-grammar\nnode: dns1\nshared: { postgres: { url_file: pg-url, connect_timeout_ms: 1000, query_timeout_ms: 1000 } }',
    }),
  );
  const W = (...args: string[]) => cli(['--config', config, ...args]);
  const first = await W('shared', 'migrate');
  assert.is(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    new RegExp(`Shared store at postgres@127.0.0.1:${pg.port}/cli: schema upgraded from version 0 to ${PG_LATEST}`),
  );
  const again = await W('shared', 'migrate', '--json');
  assert.equal(JSON.parse(again.stdout), { target: `postgres@127.0.0.1:${pg.port}/cli`, from: PG_LATEST, to: PG_LATEST });
  const status = await W('shared', 'status');
  assert.is(status.code, 0, status.stderr + status.stdout);
  assert.match(status.stdout, /connection: ok, server 15\./);
  assert.match(status.stdout, new RegExp(`schema version: ${PG_LATEST} \\(current\\)`));
  assert.match(status.stdout, /filters of this site: none has reported yet/);

  await pg.stop();
  try {
    const down = await W('shared', 'status', '--json');
    assert.is(down.code, 1);
    const s = JSON.parse(down.stdout);
    assert.equal([s.connected, s.site, s.node], [false, 'carres-grammar', 'dns1']);
    assert.match(s.error, new RegExp(`PostgreSQL at postgres@127.0.0.1:${pg.port}/cli is unreachable`));
    const failed = await W('shared', 'migrate');
    assert.is(failed.code, 1);
    assert.match(failed.stderr, /^webfilter: PostgreSQL at .* is unreachable \(.*\): could not read the schema version\n$/);
    for (const r of [down, failed]) assert.not.match(r.stdout + r.stderr, /Sup3rSecret/);
  } finally {
    await pg.start();
  }
});

test('a config without shared: the shared commands say this filter keeps its state on this box', async () => {
  const dir = tempDir(LISTS);
  const config = path.join(dir, 'c.yaml');
  writeFileSync(config, testConfig({ upstreams: [53] }));
  const r = await cli(['--config', config, 'shared', 'status']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /has no shared: section: this filter keeps its state on this box only/);
});

test.run();
