/**
 * Filters sharing a store: an account scoped to other sites changes nothing of this filter's site —
 * no exception added or revoked (the shared exceptions refuse, whoever calls: console or CLI) and
 * no permission request decided.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { decideRequest, RequestRefused } from '../../src/requests/permission-requests.js';
import { ExceptionScopeError, type ChangedBy } from '../../src/storage/exceptions.js';
import { outsideScope, sitesScope, TRUST_SCOPE } from '../../src/storage/scope.js';
import { SharedExceptions, type SharedExceptionsParts } from '../../src/storage/shared-exceptions.js';
import type { Storage } from '../../src/storage/storage.js';
import { LISTS, tempDir, testConfig } from '../helpers/daemon-process.js';

const NOW = Date.UTC(2026, 11, 1, 9);
const by = (scope?: ChangedBy['scope']): ChangedBy => ({ actor: 'ict.k', ip: 'cli', at: NOW, recordedAs: 'ict.k', scope });

test('outsideScope: only an account whose scope leaves out the site is refused', () => {
  assert.is(outsideScope('ict.k', sitesScope(['kshs']), 'kshs'), null);
  assert.is(outsideScope('ict.k', TRUST_SCOPE, 'kshs'), null);
  assert.is(outsideScope('root', undefined, 'kshs'), null, 'no account: not limited');
  assert.is(
    outsideScope('ict.k', sitesScope(['kshs']), 'carres-grammar'),
    "ict.k's account sees site kshs, not carres-grammar (this filter's site): it cannot change carres-grammar's exceptions or requests",
  );
});

test('shared exceptions: add, --local add and revoke by an account scoped to another site are refused before the store is asked', async () => {
  const asked: string[] = [];
  const record = (what: string) => async () => {
    asked.push(what);
    return {} as never;
  };
  const parts = {
    remote: { add: record('remote.add'), revoke: record('remote.revoke') },
    local: { add: record('local.add'), revoke: record('local.revoke') },
    site: 'carres-grammar',
    node: 'dns1',
    version: 'test',
  } as unknown as SharedExceptionsParts;
  const s = new SharedExceptions(parts);
  const other = by(sitesScope(['kshs']));
  for (const change of [() => s.add({} as never, other), () => s.addLocal({} as never, other), () => s.revoke(3, 'x', other)])
    await change().then(
      () => assert.unreachable('changed another site’s exception'),
      (e: unknown) =>
        assert.ok(e instanceof ExceptionScopeError && /sees site kshs, not carres-grammar/.test(e.message), String(e)),
    );
  assert.equal(asked, []);
  await s.add({} as never, by(sitesScope(['carres-grammar', 'kshs'])));
  await s.revoke(3, 'x', by(TRUST_SCOPE));
  await s.add({} as never, by());
  assert.equal(asked, ['remote.add', 'remote.revoke', 'remote.add']);
});

test('a permission request: an approver scoped to another site cannot decide this site’s (403), before anything is read', async () => {
  const dir = tempDir(LISTS);
  const file = path.join(dir, 'c.yaml');
  writeFileSync(
    file,
    testConfig({
      upstreams: [53],
      extra: 'site: carres-grammar\nnode: dns1\nshared: { postgres: { url: "postgres://wf@127.0.0.1:1/wf" } }',
    }),
  );
  const loaded = await loadConfig(file);
  const storage = { requests: { byId: () => assert.unreachable('read a request') } } as unknown as Pick<Storage, 'requests'>;
  const who = { name: 'head.k', role: 'approver' as const, groups: [], ip: '10.0.0.1', at: NOW, recordedAs: 'head.k (console)' };
  await decideRequest(storage, loaded, 1, 'approve', '', { ...who, scope: sitesScope(['kshs']) }).then(
    () => assert.unreachable('decided'),
    (e: unknown) =>
      assert.ok(e instanceof RequestRefused && e.status === 403 && /sees site kshs, not carres-grammar/.test(e.message)),
  );
});

test.run();
