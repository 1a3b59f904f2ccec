/**
 * Fetching subscribed lists (src/lists/update.ts) from a real HTTPS server on loopback, with a test CA
 * made by openssl: conditional requests, never worse than the last good copy, the sanity check, the
 * shrink hold-back, redirects, size cap and certificate checks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { readStoredCopy } from '../../src/lists/state-store.js';
import { updateSubscription, type UpdateSettings } from '../../src/lists/update.js';
import { tempDir } from '../helpers/daemon-process.js';
import { startListServer, type ListServer } from '../helpers/list-server.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';

let ca: TestCa;
let server: ListServer;

test.before(async () => {
  ca = makeTestCa();
  server = await startListServer(ca.issue('lists.test', { dns: ['lists.test'], ip: ['127.0.0.1'] }));
});
test.after(async () => {
  await server.close();
  ca.remove();
});

const LIST = (n: number, prefix = 'bet') => Array.from({ length: n }, (_, i) => `${prefix}${i}.example`).join('\n') + '\n';

function settings(over: Partial<UpdateSettings> = {}): UpdateSettings {
  return { stateDir: tempDir(), maxBytes: 1_048_576, timeoutMs: 5000, maxShrink: 0.5, ca: ca.certPem, ...over };
}

test('first fetch stores the copy; the next one is conditional and a 304 keeps it without a download', async () => {
  server.set('/a.txt', { body: LIST(10), etag: '"v1"', lastModified: 'Mon, 30 Nov 2026 08:00:00 GMT' });
  const s = settings();
  const url = server.url('/a.txt');
  const first = await updateSubscription(url, s);
  assert.is(first.result, 'updated');
  assert.is(first.entries, 10);
  assert.is(first.added, 10);
  assert.is(first.state.etag, '"v1"');
  assert.is((await readStoredCopy(s.stateDir, url))!.text, LIST(10));
  const before = server.requests.length;
  const second = await updateSubscription(url, s);
  assert.is(second.result, 'not_modified');
  const req = server.requests[before];
  assert.is(req.headers['if-none-match'], '"v1"');
  assert.is(req.headers['if-modified-since'], 'Mon, 30 Nov 2026 08:00:00 GMT');
  assert.is(req.status, 304, 'the server sent no body');
  assert.is(second.entries, 10);
  assert.ok(second.state.fetched_at! >= first.state.fetched_at!, 'a 304 confirms the copy: its age starts again');
});

test('a new version is swapped in, with +added −removed; bad lines are reported as URL:line', async () => {
  const url = server.url('/b.txt');
  const s = settings();
  server.set('/b.txt', { body: 'one.example\ntwo.example\nthree.example\n', etag: '"1"' });
  await updateSubscription(url, s);
  server.set('/b.txt', { body: 'one.example\ntwo.example\nfour.example\nnot a domain line\n', etag: '"2"', gzip: true });
  const o = await updateSubscription(url, s);
  assert.is(o.result, 'updated');
  assert.is(o.added, 1);
  assert.is(o.removed, 1);
  assert.is(o.entries, 3);
  assert.is(o.problems.length, 1);
  assert.is(`${o.problems[0].file}:${o.problems[0].line}`, `${url}:4`);
  assert.match((await readStoredCopy(s.stateDir, url))!.text, /four\.example/);
  assert.is(readdirSync(s.stateDir).filter((f) => f.endsWith('.json')).length, 1);
});

test('a 500 and a timeout keep the last good copy and record the error', async () => {
  const url = server.url('/c.txt');
  const s = settings({ timeoutMs: 1000 });
  server.set('/c.txt', { body: LIST(5), etag: '"c1"' });
  await updateSubscription(url, s);
  server.set('/c.txt', { status: 500, body: 'Internal Server Error' });
  const failed = await updateSubscription(url, s);
  assert.is(failed.result, 'error');
  assert.match(failed.error!, /HTTP 500/);
  server.set('/c.txt', { hang: true });
  const slow = await updateSubscription(url, s);
  assert.is(slow.result, 'timeout');
  assert.match(slow.error!, /within 1000 ms/);
  const kept = (await readStoredCopy(s.stateDir, url))!;
  assert.is(kept.text, LIST(5));
  assert.is(kept.state.entries, 5);
  assert.is(kept.state.last_result, 'timeout');
  assert.is(kept.state.etag, '"c1"');
});

test('an HTML page, an empty body and a page of junk are refused; the copy stays', async () => {
  const url = server.url('/d.txt');
  const s = settings();
  server.set('/d.txt', { body: LIST(5), etag: '"d1"' });
  await updateSubscription(url, s);
  for (const [r, why] of [
    [{ body: '<!DOCTYPE html><html><body>Please sign in to the Wi-Fi</body></html>', contentType: 'text/html' }, /HTML page/],
    [{ body: '<html><body>503</body></html>\n', contentType: 'text/plain' }, /HTML page/],
    [{ body: '\n\n' }, /empty/],
    [{ body: 'Error: quota exceeded for this key\nPlease try again later\nok.example\n' }, /mostly not list lines/],
  ] as const) {
    server.set('/d.txt', r);
    const o = await updateSubscription(url, s);
    assert.is(o.result, 'refused', JSON.stringify(r));
    assert.match(o.error!, why);
    assert.is((await readStoredCopy(s.stateDir, url))!.text, LIST(5));
  }
});

test('a copy that shrinks by more than max_shrink is held back (and re-checked next time) unless forced', async () => {
  const url = server.url('/e.txt');
  const s = settings();
  server.set('/e.txt', { body: LIST(100), etag: '"e1"' });
  await updateSubscription(url, s);
  server.set('/e.txt', { body: LIST(40), etag: '"e2"' });
  const held = await updateSubscription(url, s);
  assert.is(held.result, 'held_back');
  assert.match(held.error!, /40 entries, 60% fewer than the last good copy's 100/);
  assert.is(held.removed, 60);
  assert.is((await readStoredCopy(s.stateDir, url))!.text, LIST(100));
  const n = server.requests.length;
  const again = await updateSubscription(url, s);
  assert.is(again.result, 'held_back');
  assert.is(server.requests[n].headers['if-none-match'], '"e1"', 'the held-back copy is fetched again, not 304ed away');
  server.set('/e.txt', { body: LIST(60), etag: '"e3"' });
  assert.is((await updateSubscription(url, s)).result, 'updated', 'a 40% shrink passes');
  server.set('/e.txt', { body: LIST(10), etag: '"e4"' });
  const forced = await updateSubscription(url, s, { force: true });
  assert.is(forced.result, 'updated');
  assert.is(forced.entries, 10);
  assert.is(server.requests.at(-1)!.headers['if-none-match'], undefined, '--force fetches in full');
});

test('redirects are followed to https only; the size cap and the certificate check hold', async () => {
  const s = settings({ maxBytes: 2000 });
  server.set('/moved.txt', { status: 301, location: '/f.txt' });
  server.set('/f.txt', { body: LIST(3) });
  const moved = await updateSubscription(server.url('/moved.txt'), s);
  assert.is(moved.result, 'updated');
  server.set('/clear.txt', { status: 302, location: `http://127.0.0.1:${server.port}/f.txt` });
  const clear = await updateSubscription(server.url('/clear.txt'), s);
  assert.is(clear.result, 'error');
  assert.match(clear.error!, /only https is followed/);
  server.set('/big.txt', { body: LIST(500) });
  const big = await updateSubscription(server.url('/big.txt'), s);
  assert.is(big.result, 'error');
  assert.match(big.error!, /cap/);
  server.set('/bigz.txt', { body: LIST(500), gzip: true });
  assert.match((await updateSubscription(server.url('/bigz.txt'), s)).error!, /cap/, 'the cap counts decompressed bytes');
  const untrusted = await updateSubscription(server.url('/f.txt'), settings({ ca: null }));
  assert.is(untrusted.result, 'error');
  assert.match(untrusted.error!, /self[- ]signed|unable to (get|verify)|certificate/i);
  assert.is(untrusted.state.body, null);
});

test.run();
