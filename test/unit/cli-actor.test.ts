/**
 * Who a CLI change is made by on filters sharing a store (issue 17, security finding 4): without
 * --account only root or the service user act, for this filter's own site; SUDO_USER is never
 * looked up as an account; on a single box nothing changes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliActor } from '../../src/commands/cli-scope.js';
import { CommandError, UsageError } from '../../src/commands/errors.js';
import type { LoadedConfig } from '../../src/config/load.js';
import type { Storage } from '../../src/storage/storage.js';

const loaded = (shared: boolean) =>
  ({
    config: { site: 'carres-grammar', shared: shared ? { postgres: {} } : undefined, server: { user: 'webfilter' } },
  }) as unknown as LoadedConfig;

/** A store whose accounts must not be read: the root path never looks anyone up. */
const untouched = {
  accounts: new Proxy({}, { get: (_t, k) => () => assert.unreachable(`accounts.${String(k)} called`) }),
} as unknown as Storage;

const withSudo = async <T>(name: string | undefined, fn: () => Promise<T>): Promise<T> => {
  const before = process.env.SUDO_USER;
  if (name === undefined) delete process.env.SUDO_USER;
  else process.env.SUDO_USER = name;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.SUDO_USER;
    else process.env.SUDO_USER = before;
  }
};

test('shared, no --account: root acts for this filter’s site; SUDO_USER is only the audit’s name, never an account', async () => {
  const r = await withSudo('trust.admin', () =>
    cliActor(untouched, loaded(true), {}, 'exceptions.change', { uid: 0, name: 'root' }),
  );
  assert.equal(r, { actor: 'trust.admin', recordedAs: 'trust.admin', scope: { kind: 'sites', sites: ['carres-grammar'] } });
});

test('shared, no --account: the service user (server.user) acts for this site; anyone else is refused', async () => {
  const svc = await withSudo(undefined, () =>
    cliActor(untouched, loaded(true), {}, 'requests.decide', { uid: 998, name: 'webfilter' }),
  );
  assert.equal(svc.scope, { kind: 'sites', sites: ['carres-grammar'] });
  try {
    await withSudo(undefined, () => cliActor(untouched, loaded(true), {}, 'exceptions.change', { uid: 1001, name: 'tech' }));
    assert.unreachable('refused');
  } catch (e) {
    assert.instance(e, CommandError);
    assert.match((e as Error).message, /tech is not root or the service user: give --account NAME/);
  }
});

test('a single box: the OS user, unlimited, as always; --account is a usage error there', async () => {
  const r = await withSudo('ict-tech', () =>
    cliActor(untouched, loaded(false), {}, 'exceptions.change', { uid: 1001, name: 'x' }),
  );
  assert.equal(r, { actor: 'ict-tech', recordedAs: 'ict-tech' });
  try {
    await cliActor(untouched, loaded(false), { account: 'a' }, 'exceptions.change');
    assert.unreachable('refused');
  } catch (e) {
    assert.instance(e, UsageError);
  }
});

test.run();
