/** The `identity:` config section: defaults, and mistakes named by YAML path (and line). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { readFeedToken } from '../../src/identity/identity-files.js';
import { tempDir } from '../helpers/daemon-process.js';

const BASE = `
upstream: { servers: ["192.0.2.53:53"] }
groups: { default: {} }
`;

async function load(yaml: string, files: Record<string, string> = {}) {
  const dir = tempDir({ ...files, 'c.yaml': BASE + yaml });
  return loadConfig(path.join(dir, 'c.yaml'));
}

async function problems(yaml: string, files: Record<string, string> = {}): Promise<string[]> {
  try {
    await load(yaml, files);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('defaults: no RADIUS listener, feed off, Filter-Id names the group, 12 h TTL', async () => {
  const { config } = await load('');
  assert.equal(config.identity, {
    feed: { enabled: false, requests_per_minute: 600 },
    group_attribute: 'filter-id',
    default_ttl: '12h',
    max_ttl: '7d',
  });
  const withRadius = await load('identity: { radius_accounting: { clients: [{ address: 10.0.0.0/24, secret_file: s }] } }', {
    s: 'x',
  });
  assert.equal(withRadius.config.identity.radius_accounting!.listen, ['0.0.0.0:1813']);
});

test('mistakes are named by their YAML path and line', async () => {
  const p = await problems(
    `identity:
  radius_accounting:
    listen: ["10.0.0.1:99999"]
    clients: [{ address: 10.0.0.1/8, secret_file: missing-secret }]
  feed: { enabled: true }
  group_attribute: vlan
  default_ttl: 30s
  colour: blue
`,
  );
  assert.equal(p, [
    'identity.radius_accounting.listen[0]: "10.0.0.1:99999" has an invalid port (0-65535) (line 6)',
    'identity.radius_accounting.clients[0].address: "10.0.0.1/8" has host bits set after /8 (did you mean 10.0.0.0/8?) (line 7)',
    'identity.feed.token_file: an enabled feed needs token_file',
    'identity.group_attribute: "vlan" is not one of "filter-id", "class", "none" (line 9)',
    'identity.default_ttl: "30s" must be between 1m and 7d (line 10)',
    'identity.colour: unknown key (line 11)',
  ]);
});

test('unreadable secret files are errors; so is a feed without the metrics listener', async () => {
  const p = await problems(`identity:
  radius_accounting: { clients: [{ address: 10.0.0.1, secret_file: nope }] }
  feed: { enabled: true, token_file: token }
`);
  assert.equal(p.length, 2);
  assert.match(p[0], /^identity\.feed\.token_file: cannot read ".*token" \(ENOENT\) \(line 6\)$/);
  assert.match(p[1], /^identity\.radius_accounting\.clients\[0\]\.secret_file: cannot read ".*nope" \(ENOENT\) \(line 5\)$/);
  assert.equal(
    await problems('identity: { feed: { enabled: true, token_file: t } }\nmetrics: { enabled: false }\n', { t: 'x'.repeat(20) }),
    ['identity.feed.enabled: the feed is served on the metrics listener: it needs metrics.enabled: true (line 4)'],
  );
});

test('a feed token shorter than 16 characters is refused', async () => {
  const { config, file } = await load('identity: { feed: { enabled: true, token_file: t } }', { t: 'short\n' });
  try {
    await readFeedToken(config, file, () => {});
    assert.unreachable('accepted');
  } catch (e) {
    assert.match((e as Error).message, /identity\.feed\.token_file: the token is 5 characters; use at least 16/);
  }
});

test.run();
