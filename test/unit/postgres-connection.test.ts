/**
 * The shared store's statement deadline over a real, throwaway PostgreSQL: a statement that outlives
 * `query_timeout_ms` fails for the caller and is ended on the server too, so a change reported as
 * failed never commits afterwards. And the client's own defect (a connection lost while it fetches the
 * server's array types drops a rejected promise: an unhandled rejection, which ends a Node process —
 * it ended CI's test run once) does not end the process: src/storage/postgres/driver-guard.ts.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { postgresSchema } from '../../src/config/shared-schema.js';
import { PostgresConnection } from '../../src/storage/postgres/connection.js';
import { startPostgres } from '../helpers/postgres.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a statement past the deadline fails and is cancelled on the server', async () => {
  const pg = await startPostgres();
  const conn = new PostgresConnection({
    site: 's',
    node: 'n',
    postgres: postgresSchema.parse({ url: pg.url('postgres'), query_timeout_ms: 300, connect_timeout_ms: 2000 }),
    urlFile: null,
  });
  try {
    await pg.query('CREATE TABLE changes (n int)');
    await conn.run('warm up', (sql) => sql`SELECT 1`);

    // One autocommit statement that would write after a 1.5 s wait: the client gives up at 300 ms.
    const started = Date.now();
    const err = await conn
      .run('record a change', (sql) => sql`INSERT INTO changes SELECT 1 FROM pg_sleep(1.5)`)
      .then(() => null)
      .catch((e: Error) => e);
    assert.ok(err, 'the caller is told the statement failed');
    assert.match(err!.message, /could not record a change/);
    assert.ok(Date.now() - started < 1400, `failed at the deadline, not after the statement (${Date.now() - started} ms)`);

    await wait(2000); // past the statement's own end, had it gone on
    const rows = await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM changes');
    assert.is(rows[0].n, '0', 'the change the caller was told failed did not commit later');

    // The connection is usable again afterwards.
    const [row] = await conn.run('read back', (sql) => sql`SELECT 2 AS two`);
    assert.is(row.two, 2);
  } finally {
    await conn.close();
    await pg.destroy();
  }
});

// A child process, since the defect ends the process it happens in: every new connection has its
// array-type fetch cancelled by a 1 ms statement_timeout (upstream's reproduction, porsager/postgres#1192;
// the URL's parameter overrides the connection's own statement_timeout).
const CHILD = `
import { postgresSchema } from './src/config/shared-schema.js';
import { PostgresConnection } from './src/storage/postgres/connection.js';
import { ignoredDriverRejections } from './src/storage/postgres/driver-guard.js';
const postgres = postgresSchema.parse({ url: process.env.PG_URL, connect_timeout_ms: 2000, query_timeout_ms: 2000 });
const conn = new PostgresConnection({ site: 's', node: 'n', postgres, urlFile: null });
for (let i = 0; i < 20 && ignoredDriverRejections() === 0; i++) {
  await conn.run('select', (sql) => sql\`SELECT 1\`).catch(() => {});
  await new Promise((r) => setTimeout(r, 20));
}
await conn.close();
console.log('alive, ignored ' + ignoredDriverRejections());
`;

test("the client's dropped rejection on a connection's start does not end the process", async () => {
  const pg = await startPostgres();
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, PG_URL: `${pg.url('postgres')}?statement_timeout=1` },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.is(r.status, 0, `the process ended: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /alive, ignored [1-9]/, 'the defect happened and was ignored');
  } finally {
    await pg.destroy();
  }
});

test.run();
