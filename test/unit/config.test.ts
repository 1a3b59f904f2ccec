import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/daemon-process.js';

async function problems(yaml: string, files: Record<string, string> = {}, resolvConf?: string): Promise<string[]> {
  const dir = tempDir({ ...files, 'c.yaml': yaml });
  try {
    await loadConfig(path.join(dir, 'c.yaml'), { resolvConf: resolvConf ?? path.join(dir, 'missing-resolv.conf') });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const BASE = `
upstream: { servers: ["192.0.2.53:53"] }
categories: { facebook: [fb.txt] }
groups:
  students: { clients: [10.20.0.0/16], block: [facebook] }
  default: { block: [facebook] }
`;

test('a valid config gets its defaults', async () => {
  const dir = tempDir({ 'c.yaml': BASE, 'fb.txt': 'facebook.com\n' });
  const loaded = await loadConfig(path.join(dir, 'c.yaml'));
  assert.equal(loaded.config.server.listen, ['0.0.0.0:53', '[::]:53']);
  assert.is(loaded.config.upstream.strategy, 'failover');
  assert.is(loaded.config.upstream.timeout_ms, 1500);
  assert.is(loaded.config.cache.max_entries, 100000);
  assert.equal(loaded.config.blocking, { response: 'nxdomain', ttl: 60, cname_inspection: true });
  assert.equal(loaded.categoryFiles.get('facebook'), [path.join(dir, 'fb.txt')]);
  assert.equal(loaded.upstreams, [{ transport: 'udp', host: '192.0.2.53', port: 53, family: 4, name: '192.0.2.53:53' }]);
});

test('three mistakes give three problems, each with its YAML path and line', async () => {
  const p = await problems(
    `
server:
  listen: ["127.0.0.1:5353"]
upstream: { servers: ["192.0.2.53:53"], strategy: fastest }
categories: { facebook: [fb.txt] }
groups:
  students: { clients: [10.20.0.0/16, 10.30.0.0/16, 10.0.0.0/33], block: [facebook] }
  default: { block: [facebok] }
`,
    { 'fb.txt': 'facebook.com\n' },
  );
  assert.equal(p, [
    'upstream.strategy: "fastest" is not one of "failover", "parallel" (line 4)',
    'groups.students.clients[2]: "10.0.0.0/33" is not a CIDR (prefix length must be 0-32) (line 7)',
    'groups.default.block[0]: unknown category "facebok" (categories: facebook) (line 8)',
  ]);
});

test('unknown keys, wrong types, bad addresses and bad block responses are named', async () => {
  const p = await problems(
    `
server:
  listen: ["127.0.0.1"]
  alowed_clients: []
upstream: { servers: ["dns.google:53"], timeout_ms: "fast" }
cache: { max_entries: -1 }
categories: { facebook: [fb.txt] }
groups:
  default: { block: [] }
blocking: { response: blackhole }
`,
    { 'fb.txt': '' },
  );
  assert.equal(p.length, 6, p.join('\n'));
  assert.ok(
    p.some((x) => x.startsWith('server.listen[0]: "127.0.0.1" has no port')),
    p.join('\n'),
  );
  assert.ok(
    p.some((x) => x.startsWith('server.alowed_clients: unknown key (line 4)')),
    p.join('\n'),
  );
  assert.ok(
    p.some((x) => x.startsWith('upstream.servers[0]: "dns.google:53" is not an address')),
    p.join('\n'),
  );
  assert.ok(
    p.some((x) => x.startsWith('upstream.timeout_ms: expected number, got "fast"')),
    p.join('\n'),
  );
  assert.ok(
    p.some((x) => x.startsWith('cache.max_entries: -1')),
    p.join('\n'),
  );
  assert.ok(
    p.some((x) => x.startsWith('blocking.response: "blackhole" is not a block response')),
    p.join('\n'),
  );
});

test('group rules: default required and clientless, a network in only one group', async () => {
  const p = await problems(`
upstream: { servers: ["192.0.2.53"] }
groups:
  a: { clients: [10.0.0.0/8] }
  b: { clients: ["10.0.0.0/8"] }
`);
  assert.equal(p, [
    'groups.default: required: the policy for clients in no other group',
    'groups.b.clients[0]: "10.0.0.0/8" is already a client network of group "a" (line 5)',
  ]);
  const q = await problems(`
upstream: { servers: ["192.0.2.53"] }
groups:
  default: { clients: [10.0.0.0/8] }
`);
  assert.equal(q, ['groups.default.clients: the default group covers clients in no other group; give it no clients (line 4)']);
});

test('unreadable lists and YAML syntax errors are reported', async () => {
  const p = await problems(BASE);
  assert.is(p.length, 1);
  assert.match(p[0], /^categories\.facebook\[0\]: cannot read list ".*fb\.txt" \(ENOENT\)/);
  const y = await problems('server: [unclosed\n');
  assert.match(y[0], /^line \d+: YAML syntax/);
});

test('a key written twice in one map is refused with its path and lines, at the top and nested', async () => {
  const yaml = [
    'upstream: { servers: ["192.0.2.53:53"] }', // 1
    'categories: { facebook: [fb.txt] }', // 2
    'clients:', // 3
    '  names:', // 4
    '    "10.20.0.1": laptop-1', // 5
    '    "10.20.0.2": laptop-2', // 6
    '    "10.20.0.1": laptop-3', // 7
    'groups:', // 8
    '  students: { clients: [10.20.0.0/16], block: [facebook], clients: [10.30.0.0/16] }', // 9
    '  default: { block: [facebook] }', // 10
    'upstream: { servers: ["192.0.2.54:53"] }', // 11
  ].join('\n');
  const p = await problems(yaml, { 'fb.txt': 'facebook.com\n' });
  assert.equal(p, [
    'clients.names["10.20.0.1"]: key written twice (line 7; first at line 5)',
    'groups.students.clients: key written twice (line 9; first at line 9)',
    'upstream: key written twice (line 11; first at line 1)',
  ]);
  // The same value under different keys, and the same key in different maps, are not repeats.
  const fine = BASE + 'clients:\n  names: { "10.20.0.1": a, "10.20.0.2": a }\n';
  assert.equal(await problems(fine, { 'fb.txt': 'facebook.com\n' }), []);
});

test('default upstreams come from resolv.conf, never the daemon itself', async () => {
  const dir = tempDir({
    'resolv.conf': 'nameserver 127.0.0.1\nnameserver 192.0.2.1\n# comment\nnameserver fe80::1%eth0\nnameserver 127.0.0.53\n',
    'fb.txt': '',
    'c.yaml': 'server: { listen: ["0.0.0.0:53"] }\ncategories: { facebook: [fb.txt] }\ngroups: { default: { block: [] } }\n',
  });
  const loaded = await loadConfig(path.join(dir, 'c.yaml'), { resolvConf: path.join(dir, 'resolv.conf') });
  assert.equal(
    loaded.upstreams.map((u) => u.host),
    ['192.0.2.1', 'fe80::1'],
  );
  const none = await problems(
    'server: { listen: ["0.0.0.0:53"] }\ngroups: { default: { block: [] } }\n',
    {},
    path.join(dir, 'nope'),
  );
  assert.match(none[0], /^upstream\.servers: none given/);
});

test('upstream.zones and local_records: loaded normalised; bad names, servers and addresses named', async () => {
  const dir = tempDir({
    'fb.txt': '',
    'c.yaml': `upstream:
  servers: ["192.0.2.53"]
  zones:
    School.Local.: ["10.0.0.10", "10.0.0.11:5353"]
    10.in-addr.arpa: ["[fd00::10]:53"]
local_records: { filter.school.local: 10.0.0.53, printer.school.local: [10.0.12.5, "fd00::12:5"] }
categories: { facebook: [fb.txt] }
groups: { default: { block: [] } }
`,
  });
  const loaded = await loadConfig(path.join(dir, 'c.yaml'));
  assert.equal(loaded.zones, [
    {
      zone: 'school.local',
      servers: [
        { host: '10.0.0.10', port: 53, family: 4 },
        { host: '10.0.0.11', port: 5353, family: 4 },
      ],
    },
    { zone: '10.in-addr.arpa', servers: [{ host: 'fd00::10', port: 53, family: 6 }] },
  ]);
  const p = await problems(
    `
upstream:
  servers: ["192.0.2.53:53"]
  zones:
    school.local: ["dc1.school.local:53"]
    School.local.: ["10.0.0.10"]
    "bad name!": ["10.0.0.10"]
    empty.example: []
local_records:
  printer.school.local: 10.0.12.300
  "two words": 10.0.0.1
groups: { default: { block: [] } }
`,
  );
  assert.equal(p, [
    'upstream.zones["school.local"][0]: "dc1.school.local:53" is not an address: expected an IP literal with a port, e.g. 10.0.0.1:53 or [fd00::1]:53 (line 5)',
    'upstream.zones["empty.example"]: []: expected array to have >=1 items (line 8)',
    'upstream.zones["School.local."]: the same zone as "school.local" (line 6)',
    'upstream.zones["bad name!"]: "bad name!" is not a domain name (label "bad name!" is not 1-63 letters, digits, - or _) (line 7)',
    'local_records["printer.school.local"]: is not an IPv4 or IPv6 address (line 10)',
    'local_records["two words"]: "two words" is not a domain name (label "two words" is not 1-63 letters, digits, - or _) (line 11)',
  ]);
});

test('requests: defaults, and lessons and auto_approve name a schedule, groups and openable categories', async () => {
  const dir = tempDir({ 'c.yaml': BASE, 'fb.txt': 'facebook.com\n' });
  const loaded = await loadConfig(path.join(dir, 'c.yaml'));
  assert.equal(loaded.config.requests, { max_duration: '1d', max_ahead: '14d', ict_may_approve: false, auto_approve: {} });
  const p = await problems(
    `
upstream: { servers: ["192.0.2.53:53"] }
categories: { facebook: [fb.txt], iwf: { lists: [fb.txt], locked: true } }
schedules: { periods: { windows: ["09:00-10:00"] } }
groups:
  students: { clients: [10.20.0.0/16], block: [facebook] }
  default: { block: [facebook] }
requests:
  lessons: period
  max_duration: 40d
  auto_approve: { students: [facebook, iwf, youtube, vpn-proxy], staff: [facebook], default: [] }
  ict_may_aprove: true
`,
    { 'fb.txt': 'facebook.com\n' },
  );
  assert.equal(p, [
    'requests.max_duration: "40d" must be between 1m and 30d (line 10)',
    'requests.auto_approve.default: []: expected array to have >=1 items (line 11)',
    'requests.ict_may_aprove: unknown key (line 12)',
    'requests.lessons: unknown schedule "period" (schedules: periods) (line 9)',
    'requests.auto_approve.students[1]: "iwf" is locked: nothing may open it (line 11)',
    'requests.auto_approve.students[2]: unknown category "youtube" (categories: facebook, iwf) (line 11)',
    'requests.auto_approve.students[3]: "vpn-proxy" is a circumvention rule: nothing may open it (line 11)',
    'requests.auto_approve.staff: unknown group "staff" (groups: students, default) (line 11)',
  ]);
});

test.run();
