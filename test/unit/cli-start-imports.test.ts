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
import { CLI, ROOT, tempDir } from '../helpers/daemon-process.js';

const TRACE = path.join(ROOT, 'test/helpers/import-trace.mjs');

/** The dist/ modules (relative paths) `webfilter …args` imports, and its exit status. */
function imported(...args: string[]): { modules: string[]; status: number | null } {
  const file = path.join(tempDir(), 'imports.txt');
  const r = spawnSync(process.execPath, ['--import', TRACE, CLI, ...args], {
    env: { ...process.env, IMPORT_TRACE: file },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const urls = readFileSync(file, 'utf8').split('\n');
  const dist = `file://${path.join(ROOT, 'dist')}/`;
  return { modules: urls.filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length)), status: r.status };
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

test.run();
