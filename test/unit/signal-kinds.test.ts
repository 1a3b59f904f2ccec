/**
 * The registry of signal kinds (src/signals/kinds.ts) against every place that names kinds: the
 * config schema, the policy's rule categories, the evidence processor, the console's and the CLI's
 * kind filter, and the README's tables.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { DeviceNames } from '../../src/evidence/devices.js';
import { EvidenceProcessor } from '../../src/evidence/processor.js';
import { buildDetectors } from '../../src/evidence/detectors/index.js';
import { ANSWER_RULES, categoryInfos } from '../../src/policy/categories.js';
import { checkFilter } from '../../src/review/filter.js';
import { filterFromFlags } from '../../src/commands/review-filter.js';
import { kindsFoundBy, RESERVED_CATEGORIES, SIGNAL_KIND_NAMES, SIGNAL_KINDS, type SignalKind } from '../../src/signals/kinds.js';
import { cli } from '../helpers/cli.js';
import { ROOT } from '../helpers/daemon-process.js';

const config = configSchema.parse({ groups: { default: {} } });
const NOW = Date.UTC(2026, 10, 23, 10, 0, 0);

test('the config has one circumvention section per kind, under the kind’s config key', () => {
  assert.equal(Object.keys(config.circumvention).sort(), SIGNAL_KIND_NAMES.map((k) => SIGNAL_KINDS[k].configKey).sort());
  for (const k of SIGNAL_KIND_NAMES) {
    const section = (config.circumvention as Record<string, { enabled: boolean; lists?: string[] }>)[SIGNAL_KINDS[k].configKey];
    assert.is(section.enabled, true, k);
    assert.is(Array.isArray(section.lists), SIGNAL_KINDS[k].source === 'list', `${k}: lists only for list kinds`);
  }
});

test('rule kinds are reserved category names; detector kinds are not', () => {
  for (const k of SIGNAL_KIND_NAMES) {
    const r = configSchema.safeParse({ categories: { [k]: ['x.txt'] }, groups: { default: {} } });
    assert.is(r.success, SIGNAL_KINDS[k].source === 'detector', k);
  }
});

test('the policy has a locked, everyone category for each rule kind, with the registry’s severity', () => {
  const infos = new Map(categoryInfos(config).map((c) => [c.name, c]));
  for (const k of [...kindsFoundBy('list'), ...kindsFoundBy('answer')]) {
    const c = infos.get(k);
    assert.ok(c, k);
    assert.equal([c!.signal, c!.severity, c!.locked, c!.everyone], [k, SIGNAL_KINDS[k].severity, true, true], k);
  }
  assert.equal(Object.keys(ANSWER_RULES).sort(), kindsFoundBy('answer').sort());
  assert.is(buildDetectors(config.circumvention).length, kindsFoundBy('detector').length);
});

test('a rule signal gets the registry’s severity and description', () => {
  const p = new EvidenceProcessor(
    { access: 'off', circumvention: config.circumvention, collapseMs: 0 },
    new DeviceNames({ names: {}, leases: null }),
  );
  for (const k of [...kindsFoundBy('list'), ...kindsFoundBy('answer'), ...kindsFoundBy('decoder')] as SignalKind[]) {
    const [s] = p.process([
      {
        at: NOW,
        transport: 'udp',
        client: '10.0.0.1',
        group: 'g',
        qname: 'x.example',
        qtype: 1,
        kind: 'blocked',
        reason: k,
        entry: 'x.example',
        rcode: 3,
        duration: 0,
        upstream: '',
        response: 'NXDOMAIN',
        signal: k,
        recordBlocked: false,
        via: '',
        user: '',
      },
    ]).signals;
    assert.is(s.severity, SIGNAL_KINDS[k].severity, k);
    assert.ok(s.detail.startsWith(SIGNAL_KINDS[k].description), k);
  }
});

test('the console and the CLI accept exactly the registry’s kinds', () => {
  for (const k of SIGNAL_KIND_NAMES) {
    assert.equal(checkFilter({ kind: k }, { now: NOW, groups: [], defaultSince: '7d' }).errors, {}, k);
    assert.is(filterFromFlags({ since: '7d', kind: k }, [], NOW).kind, k);
  }
  const bad = checkFilter({ kind: 'vpn' }, { now: NOW, groups: [], defaultSince: '7d' });
  assert.is(bad.errors.kind, `no such kind (kinds: ${SIGNAL_KIND_NAMES.join(', ')})`);
  assert.throws(() => filterFromFlags({ since: '7d', kind: 'vpn' }, [], NOW), /--kind "vpn": no such kind/);
});

test('`logs --help` lists every kind', async () => {
  const r = await cli(['logs', 'signals', '--help']);
  const help = r.stdout.replace(/\s+/g, ' ');
  for (const k of SIGNAL_KIND_NAMES) assert.ok(help.includes(k), k);
});

test('the README’s signal table, metric and reserved names match the registry', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const table = [...readme.matchAll(/^ {2}\| `([a-z-]+)` \|.*\| (low|medium|high) \|$/gm)].map((m) => [m[1], m[2]]);
  assert.equal(
    table,
    SIGNAL_KIND_NAMES.map((k) => [k, SIGNAL_KINDS[k].severity]),
  );
  assert.ok(readme.includes(`signals found (${SIGNAL_KIND_NAMES.join(', ')})`), 'metrics table');
  const reserved = RESERVED_CATEGORIES.map((k) => `\`${k}\``).join(', ');
  assert.ok(readme.includes(`category names (${reserved}) are reserved`), 'reserved names');
});

test.run();
