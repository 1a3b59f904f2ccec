/**
 * In-process: a group the config does not have, named in a well-formed command line, is an error
 * about the config's content (CommandError: exit 1, naming the groups it has), the same from
 * `check --group` and the review filters (`logs`, `report`, `export`) as from `exception add`
 * (e2e/cli-exceptions); a mistake in how the command was called stays a usage error (UsageError:
 * exit 2).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { checkCommand } from '../../src/commands/check.js';
import { CommandError, UsageError } from '../../src/commands/errors.js';
import { filterFromFlags } from '../../src/commands/review-filter.js';
import { LISTS, tempDir, testConfig } from '../helpers/daemon-process.js';
import { inTimezone } from '../helpers/timezone.js';

const NOW = Date.UTC(2026, 10, 30, 10, 0, 0);
const GROUPS = ['students', 'sixth-form', 'default'];

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => assert.unreachable('it ran') as never,
    (e: unknown) => e as Error,
  );
}

test('check --group UNKNOWN: exit 1 naming the groups, as exception add; --group with --client stays usage', async () => {
  const dir = tempDir(LISTS);
  const config = path.join(dir, 'webfilter.yaml');
  writeFileSync(config, testConfig({ upstreams: [53] }));
  const run = (over: Record<string, unknown>) =>
    inTimezone('UTC', () =>
      rejection(
        checkCommand.handler!({
          config,
          json: false,
          domain: 'www.example.org',
          resolve: false,
          type: 'A',
          _: [],
          $0: 'webfilter',
          ...over,
        } as never) as Promise<unknown>,
      ),
    );
  const unknown = await run({ group: 'nobody' });
  assert.instance(unknown, CommandError, 'exit 1: the config has no such group');
  assert.is(unknown.message, '--group "nobody": no such group (groups: students, sixth-form, default)');
  const both = await run({ group: 'nobody', client: '127.0.0.10' });
  assert.instance(both, UsageError, 'exit 2: two ways of saying who asks');
  const badClient = await run({ client: 'not-an-address' });
  assert.instance(badClient, UsageError);
});

test('logs, report and export --group UNKNOWN: exit 1 naming the groups; with a usage mistake too, one usage error naming both', () => {
  const err = (flags: Record<string, string>) => {
    try {
      filterFromFlags({ since: '7d', ...flags }, GROUPS, NOW);
    } catch (e) {
      return e as Error;
    }
    return assert.unreachable('accepted') as never;
  };
  const unknown = err({ group: 'nope' });
  assert.instance(unknown, CommandError);
  assert.is(unknown.message, '--group "nope": no such group (groups: students, sixth-form, default)');
  const both = err({ group: 'nope', since: 'yesterday-ish' });
  assert.instance(both, UsageError);
  assert.match(both.message, /--since "yesterday-ish"[\s\S]*--group "nope": no such group/);
  assert.instance(err({ kind: 'vpn' }), UsageError, 'a signal kind is the program’s vocabulary, not the config’s');
  assert.is(filterFromFlags({ since: '7d', group: 'none' }, GROUPS, NOW).group, '', '"none" (rows with no group) is known');
});

test.run();
