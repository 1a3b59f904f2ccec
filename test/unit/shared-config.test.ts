/** Config of several filters sharing one state: site, node and shared.postgres. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { sharedLocation } from '../../src/storage/open-shared.js';
import { tempDir } from '../helpers/daemon-process.js';

const BASE = `
upstream: { servers: ["192.0.2.53:53"] }
categories: { facebook: [fb.txt] }
groups:
  default: { block: [facebook] }
`;

async function load(extra: string, files: Record<string, string> = {}) {
  const dir = tempDir({ 'c.yaml': BASE + extra, 'fb.txt': 'facebook.com\n', ...files });
  return { dir, loaded: await loadConfig(path.join(dir, 'c.yaml')) };
}

async function problems(extra: string): Promise<string[]> {
  try {
    await load(extra);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('without shared: a single box, node named after the host, no shared store', async () => {
  const { loaded } = await load('');
  assert.is(loaded.config.site, undefined);
  assert.is(
    loaded.config.node,
    os
      .hostname()
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, '-'),
  );
  assert.is(sharedLocation(loaded), null);
});

test('shared with a url_file: the file is named, its contents are not kept in the loaded config', async () => {
  const { dir, loaded } = await load('site: carres-grammar\nnode: dns1\nshared: { postgres: { url_file: pg-url } }\n', {
    'pg-url': 'postgres://webfilter:s3cret@127.0.0.1:5432/webfilter\n',
  });
  const loc = sharedLocation(loaded)!;
  assert.equal([loc.site, loc.node, loc.urlFile], ['carres-grammar', 'dns1', path.join(dir, 'pg-url')]);
  assert.equal([loc.postgres.connect_timeout_ms, loc.postgres.query_timeout_ms, loc.postgres.poll_seconds], [5000, 5000, 30]);
  assert.not.match(JSON.stringify(loaded), /s3cret/);
});

test('shared mistakes are named by path: no site, a password in url, url and url_file both, unreadable url_file', async () => {
  assert.equal(await problems('shared: { postgres: { url: "postgres://webfilter@db.example/webfilter" } }\n'), [
    "site: required with shared: the school's name in the trust (e.g. carres-grammar), written into every shared row",
  ]);
  const pw = await problems('site: a\nshared: { postgres: { url: "postgres://webfilter:pw@db.example/webfilter" } }\n');
  assert.is(pw.length, 1);
  assert.match(
    pw[0],
    /^shared\.postgres\.url: holds a password: put the URL with its password in url_file .* or the password in PGPASSWORD \(line \d+\)$/,
  );
  assert.not.match(pw[0], /pw@/);
  const both = await problems('site: a\nshared: { postgres: { url: "postgres://w@db/w", url_file: f } }\n');
  assert.ok(
    both.some((p) => p.startsWith('shared.postgres.url_file: give url or url_file, not both')),
    both.join('\n'),
  );
  const missing = await problems('site: a\nshared: { postgres: { url_file: nowhere } }\n');
  assert.ok(
    missing.some((p) => /^shared\.postgres\.url_file: cannot read ".*nowhere" \(ENOENT\)/.test(p)),
    missing.join('\n'),
  );
  assert.match((await problems('site: Carres Grammar\n'))[0], /^site: site names use a-z/);
  assert.match((await problems('shared: { postgres: { bogus: 1 } }\nsite: a\n'))[0], /^shared\.postgres\.bogus: unknown key/);
});

test.run();
