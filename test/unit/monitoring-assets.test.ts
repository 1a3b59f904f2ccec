/** The shipped Grafana dashboard and Prometheus rules only use metrics the daemon exports, and are valid. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DaemonMetrics } from '../../src/metrics/daemon-metrics.js';
import { ROOT } from '../helpers/daemon-process.js';
import { needTool } from '../helpers/tools.js';

const zero = () => 0;
async function exportedNames(): Promise<Set<string>> {
  const m = new DaemonMetrics(
    {
      cacheEntries: zero,
      cacheHits: zero,
      cacheMisses: zero,
      queueDepth: zero,
      dropped: zero,
      writeErrors: zero,
      rateLimited: zero,
      exceptionsActive: () => new Map(),
    },
    '0.0.0',
  );
  const names = new Set<string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(metric.name + s);
  }
  return names;
}

function referenced(exprs: string[]): string[] {
  return [...new Set(exprs.flatMap((e) => e.match(/webfilter_[a-z0-9_]+/g) ?? []))];
}

function dashboardExprs(): string[] {
  const dash = JSON.parse(readFileSync(path.join(ROOT, 'config/grafana/webfilter.json'), 'utf8'));
  const exprs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'expr' || k === 'definition') && typeof x === 'string') exprs.push(x);
        else walk(x);
      }
    }
  };
  walk(dash);
  return exprs;
}

test('every metric in the Grafana dashboard is exported by the daemon', async () => {
  const names = await exportedNames();
  const exprs = dashboardExprs();
  assert.ok(exprs.length >= 20);
  const used = referenced(exprs);
  for (const m of used) assert.ok(names.has(m), `dashboard uses ${m}, which the daemon does not export`);
  for (const required of [
    'webfilter_responses_total',
    'webfilter_blocked_total',
    'webfilter_circumvention_signals_total',
    'webfilter_request_duration_seconds_bucket',
    'webfilter_upstream_requests_total',
    'webfilter_cache_hits_total',
    'webfilter_log_queue_depth',
    'webfilter_log_dropped_total',
    'webfilter_blocklist_entries',
    'webfilter_config_reload_total',
  ]) {
    assert.ok(used.includes(required), `dashboard has no panel using ${required}`);
  }
});

test('the dashboard imports with a datasource input and a group variable', () => {
  const dash = JSON.parse(readFileSync(path.join(ROOT, 'config/grafana/webfilter.json'), 'utf8'));
  assert.is(dash.__inputs[0].name, 'DS_PROMETHEUS');
  assert.is(dash.templating.list[0].name, 'group');
  const ids = dash.panels.map((p: { id: number }) => p.id);
  assert.is(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('every metric in the alert rules is exported by the daemon', async () => {
  const names = await exportedNames();
  const rules = parseYaml(readFileSync(path.join(ROOT, 'config/prometheus/alerts.yml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string; for?: string }[] }[];
  };
  const all = rules.groups.flatMap((g) => g.rules);
  assert.ok(all.length >= 8);
  for (const r of all)
    for (const m of referenced([r.expr])) assert.ok(names.has(m), `alert ${r.alert} uses ${m}, which the daemon does not export`);
  const alerts = all.map((r) => r.alert);
  for (const a of [
    'WebfilterDown',
    'WebfilterNoUpstreamAnswering',
    'WebfilterHighServfailRatio',
    'WebfilterCircumventionSpike',
    'WebfilterEvidenceDropped',
    'WebfilterListLoadErrors',
    'WebfilterReloadFailed',
    'WebfilterLatencyHigh',
  ]) {
    assert.ok(alerts.includes(a), `missing alert ${a}`);
  }
});

test('promtool check rules / check config', () => {
  needTool('promtool');
  const rules = spawnSync('promtool', ['check', 'rules', path.join(ROOT, 'config/prometheus/alerts.yml')], { encoding: 'utf8' });
  assert.is(rules.status, 0, rules.stdout + rules.stderr);
  assert.match(rules.stdout, /SUCCESS: 10 rules found/);
  const config = spawnSync('promtool', ['check', 'config', path.join(ROOT, 'config/prometheus/scrape.yml')], {
    encoding: 'utf8',
  });
  assert.is(config.status, 0, config.stdout + config.stderr);
});

test.run();
