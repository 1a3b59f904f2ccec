/**
 * The CLI imports only the named command's modules (issue 25: importing every command, the daemon
 * included, cost ~0.5 s of CPU on every run). Runs the built CLI with a loader hook that records every
 * module it imports.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, LISTS, ROOT, tempDir, testConfig } from '../helpers/daemon-process.js';
import { openStorage } from '../../src/storage/open.js';

const TRACE = path.join(ROOT, 'test/helpers/import-trace.mjs');

/** The dist/ modules (relative paths) `webfilter …args` imports, the packages it loads, and its exit status. */
function imported(...args: string[]): { modules: string[]; packages: Set<string>; status: number | null } {
  const file = path.join(tempDir(), 'imports.txt');
  const r = spawnSync(process.execPath, ['--import', TRACE, CLI, ...args], {
    env: { ...process.env, IMPORT_TRACE: file },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const urls = readFileSync(file, 'utf8').split('\n');
  const dist = `file://${path.join(ROOT, 'dist')}/`;
  const packages = new Set(urls.map((u) => /\/node_modules\/([^/]+)\//.exec(u)?.[1]).filter((p) => p !== undefined));
  return { modules: urls.filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length)), packages, status: r.status };
}

const HEAVY = /^(daemon|console|storage\/sqlite|storage\/postgres|review|pipeline|server)\//;

test('--version and --help import no command module, nor the daemon, console or storage', () => {
  for (const args of [['--version'], ['--help']]) {
    const { modules, status } = imported(...args);
    assert.is(status, 0, args.join(' '));
    assert.ok(modules.includes('cli.js'), 'the trace saw the CLI');
    assert.equal(
      modules.filter(
        (m) => HEAVY.test(m) || (m.startsWith('commands/') && !/^commands\/(command-table|default-config|errors)\.js$/.test(m)),
      ),
      [],
      args.join(' '),
    );
  }
});

test('a command imports its own module and not the daemon', () => {
  const { modules } = imported('report', '--help');
  assert.ok(modules.includes('commands/report.js'));
  assert.not.ok(modules.includes('commands/serve.js'));
  assert.equal(
    modules.filter((m) => m.startsWith('daemon/') || m.startsWith('console/')),
    [],
  );
});

test('a box without `shared` never loads the PostgreSQL implementation or its driver (report)', async () => {
  const dir = tempDir({ 'webfilter.yaml': testConfig({ upstreams: [53] }), ...LISTS });
  const store = openStorage(
    { evidencePath: path.join(dir, 'webfilter.db'), accountsPath: path.join(dir, 'webfilter-accounts.db') },
    'write',
  );
  await store.open();
  await store.close();
  const { modules, packages, status } = imported('report', '--config', path.join(dir, 'webfilter.yaml'));
  assert.is(status, 0, 'the report ran');
  assert.ok(modules.includes('storage/sqlite/review.js'), 'it read the SQLite store');
  assert.equal(
    modules.filter((m) => m.startsWith('storage/postgres/') || m === 'storage/shared-storage.js'),
    [],
  );
  assert.not.ok(packages.has('postgres'), 'the postgres driver was loaded');
});

test('serve --config FILE alone (how the unit and the Dockerfile start it) loads no command-line parser', () => {
  const missing = path.join(tempDir(), 'none.yaml');
  for (const args of [
    ['serve', '--config', missing],
    ['serve', '-c', missing],
    ['serve', `--config=${missing}`],
  ]) {
    const { modules, packages, status } = imported(...args);
    assert.ok(modules.includes('commands/serve.js'), args.join(' '));
    assert.is(status, 1, `${args.join(' ')}: the daemon reports the missing config and exits 1`);
    assert.not.ok(packages.has('yargs'), args.join(' '));
  }
  // Any other form is parsed as before.
  const other = imported('serve', '--config', missing, '--json');
  assert.ok(other.packages.has('yargs'));
  assert.is(other.status, 1);
});

test.run();
