/**
 * The shared exceptions over a real, throwaway PostgreSQL: the copy a filter keeps is of one store;
 * a store created anew (change numbers from 1 again) replaces it whole rather than being mistaken
 * for the old one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { postgresSchema } from '../../src/config/shared-schema.js';
import type { ExceptionRecord, NewException } from '../../src/storage/exceptions.js';
import { loadStorage } from '../../src/storage/open.js';
import { PostgresShared } from '../../src/storage/postgres/postgres-shared.js';
import { tempDir } from '../helpers/daemon-process.js';
import { startPostgres } from '../helpers/postgres.js';
import { until } from '../helpers/wait.js';

const HOUR = 3_600_000;
const exception = (target: string): NewException => ({
  targetKind: 'group',
  target,
  categories: ['instagram'],
  domains: [],
  startsAt: Date.now(),
  expiresAt: Date.now() + HOUR,
  reason: 'r',
  approvedBy: 'Head',
});
const by = () => ({ actor: 'ict', ip: 'cli', at: Date.now(), recordedAs: 'ict' });

test('a store created anew replaces the copy of the old one (its change numbers start again)', async () => {
  const pg = await startPostgres();
  const dir = tempDir();
  try {
    const url = await pg.createDatabase('resync');
    const shared = {
      site: 's',
      node: 'dns1',
      postgres: postgresSchema.parse({ url, query_timeout_ms: 5000, connect_timeout_ms: 5000 }),
      urlFile: null,
    };
    const location = { evidencePath: path.join(dir, 'w.db'), accountsPath: path.join(dir, 'w-accounts.db'), shared };
    const other = () => new PostgresShared({ ...shared, node: 'cli' });

    const watch = async () => {
      const storage = await loadStorage(location, 'write');
      const seen: ExceptionRecord[][] = [];
      const stop = storage.exceptions.subscribe((r) => seen.push(r));
      const targets = () => (seen.at(-1) ?? []).map((e) => e.target).sort();
      return { seen, targets, stop: async () => (stop(), await storage.close()) };
    };

    const first = await watch();
    const old = other();
    await until(async () => (await old.status()).nodes.length === 1, 'the filter migrated and reported');
    await old.exceptions.add(exception('room-12'), by());
    await old.exceptions.add(exception('room-13'), by());
    await until(() => first.targets().join() === 'room-12,room-13', 'both delivered');
    await first.stop();
    await old.close();

    // The database is dropped and created again: its one exception is change 1 again.
    await pg.query('DROP DATABASE resync WITH (FORCE)');
    await pg.createDatabase('resync');
    const fresh = other();
    await fresh.migrate();
    await fresh.exceptions.add(exception('staff'), by());

    const second = await watch();
    try {
      await until(() => second.seen.length > 0, 'the copy delivered at once');
      assert.equal(second.seen[0].map((e) => e.target).sort(), ['room-12', 'room-13'], 'known ones enforced until contact');
      await until(() => second.targets().join() === 'staff', 'the new store replacing the copy', 10_000).catch(() => {
        throw new Error(`delivered: ${JSON.stringify(second.seen.map((s) => s.map((e) => e.target)))}`);
      });
    } finally {
      await second.stop();
      await fresh.close();
    }
  } finally {
    await pg.destroy();
  }
});

test.run();
