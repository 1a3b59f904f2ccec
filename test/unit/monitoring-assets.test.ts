/** The shipped Grafana dashboard and Prometheus rules only use metrics the daemon exports, and are valid. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DaemonMetrics } from '../../src/metrics/daemon-metrics.js';
import { QueryStats } from '../../src/observe/query-stats.js';
import { UpstreamStats } from '../../src/observe/upstream-stats.js';
import { AlertMetrics } from '../../src/alerts/alert-metrics.js';
import { ListMetrics } from '../../src/metrics/list-metrics.js';
import { ROOT } from '../helpers/daemon-process.js';
import { needTool } from '../helpers/tools.js';

async function exportedNames(): Promise<Set<string>> {
  const m = new DaemonMetrics(
    {
      live: () => ({
        queries: new QueryStats(),
        upstreams: new UpstreamStats(),
        cacheEntries: 0,
        cacheHits: 0,
        cacheMisses: 0,
        queueDepth: 0,
        dropped: 0,
        writeErrors: 0,
        rateLimited: 0,
      }),
      exceptionsActive: () => new Map(),
    },
    '0.0.0',
  );
  new ListMetrics(m.registry, () => []);
  new AlertMetrics(m.registry);
  const names = new Set<string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(metric.name + s);
  }
  return names;
}

function referenced(exprs: string[]): string[] {
  return [...new Set(exprs.flatMap((e) => e.match(/\b(?:webfilter|process|nodejs)_[a-z0-9_]+/g) ?? []))];
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
    'webfilter_shipping_backlog_rows',
    'webfilter_shipping_lag_seconds',
  ]) {
    assert.ok(used.includes(required), `dashboard has no panel using ${required}`);
  }
});

test('the dashboard imports with a datasource input, a site, filter and group variable', () => {
  const dash = JSON.parse(readFileSync(path.join(ROOT, 'config/grafana/webfilter.json'), 'utf8'));
  assert.is(dash.__inputs[0].name, 'DS_PROMETHEUS');
  assert.equal(
    dash.templating.list.map((v: { name: string }) => v.name),
    ['site', 'instance', 'group'],
  );
  // Metrics carry no site label: the site is the scrape config's target label, and picks the filters.
  assert.match(dash.templating.list[1].query.query, /\{site=~"\$site"\}/);
  const ids = dash.panels.map((p: { id: number }) => p.id);
  assert.is(new Set(ids).size, ids.length, 'panel ids are unique');
});

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  fieldConfig?: { defaults?: { unit?: string } };
  options?: { textMode?: string };
  targets?: { expr: string; legendFormat?: string }[];
}
const dashboard = () =>
  JSON.parse(readFileSync(path.join(ROOT, 'config/grafana/webfilter.json'), 'utf8')) as {
    panels: Panel[];
    templating: { list: { name: string; query: { query: string } }[] };
  };
const NOT_BY_GROUP = 'the Group selector does not apply';

test('dashboard: one filter at a time (instance variable on every query)', () => {
  const dash = dashboard();
  const vars = dash.templating.list.map((v) => v.name);
  assert.ok(vars.includes('instance'), 'an instance (filter/site) variable');
  for (const p of dash.panels)
    for (const t of p.targets ?? [])
      for (const m of t.expr.match(/\b(?:webfilter|process|nodejs)_[a-z0-9_]+(\{[^}]*\})?/g) ?? [])
        assert.ok(m.includes('instance=~"$instance"'), `panel "${p.title}": ${m} is not filtered by $instance`);
});

test('dashboard: a panel follows the Group selector or says it does not', () => {
  for (const p of dashboard().panels.filter((p) => p.type !== 'row')) {
    const byGroup = (p.targets ?? []).every((t) => t.expr.includes('$group'));
    assert.ok(byGroup || p.description?.includes(NOT_BY_GROUP), `panel "${p.title}" ignores $group without saying so`);
  }
});

test('dashboard: per-second units only on rates; the Version stat shows the version', () => {
  for (const p of dashboard().panels.filter((p) => p.type !== 'row')) {
    const unit = p.fieldConfig?.defaults?.unit ?? '';
    const rate = (p.targets ?? []).some((t) => /\brate\(/.test(t.expr));
    if (!rate) assert.not.ok(/ps$/.test(unit), `panel "${p.title}" is not a rate but has unit ${unit}`);
  }
  const version = dashboard().panels.find((p) => p.title === 'Version')!;
  // The metric is always 1: the stat must show the series name (its labels), not the value.
  assert.is(version.options?.textMode, 'name');
  assert.match(version.targets![0].legendFormat ?? '', /\{\{version\}\}/);
});

test('dashboard: readiness, memory and event-loop panels', () => {
  const exprs = dashboardExprs().join('\n');
  for (const m of ['webfilter_ready', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds'])
    assert.ok(exprs.includes(m), `no panel shows ${m}`);
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
    'WebfilterListStale',
    'WebfilterListHeldBack',
    'WebfilterAlertsFailing',
    'WebfilterShippingLag',
  ]) {
    assert.ok(alerts.includes(a), `missing alert ${a}`);
  }
});

test('promtool check rules / check config', () => {
  needTool('promtool');
  const rules = spawnSync('promtool', ['check', 'rules', path.join(ROOT, 'config/prometheus/alerts.yml')], { encoding: 'utf8' });
  assert.is(rules.status, 0, rules.stdout + rules.stderr);
  assert.match(rules.stdout, /SUCCESS: 14 rules found/);
  const config = spawnSync('promtool', ['check', 'config', path.join(ROOT, 'config/prometheus/scrape.yml')], {
    encoding: 'utf8',
  });
  assert.is(config.status, 0, config.stdout + config.stderr);
});

test('promtool test rules: every alert fires in its main case (config/prometheus/alerts.test.yml)', () => {
  needTool('promtool');
  const file = path.join(ROOT, 'config/prometheus/alerts.test.yml');
  const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
  const rules = parseYaml(readFileSync(path.join(ROOT, 'config/prometheus/alerts.yml'), 'utf8')) as {
    groups: { rules: { alert: string }[] }[];
  };
  const tests = parseYaml(readFileSync(file, 'utf8')) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const firing = new Set(
    tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)),
  );
  for (const r of rules.groups.flatMap((g) => g.rules)) assert.ok(firing.has(r.alert), `no test where ${r.alert} fires`);
});

test('every labelled counter series exists at 0 from start (rate/increase need an earlier sample)', async () => {
  const stats = { queries: new QueryStats(), upstreams: new UpstreamStats() };
  const m = new DaemonMetrics(
    {
      live: () => ({
        ...stats,
        cacheEntries: 0,
        cacheHits: 0,
        cacheMisses: 0,
        queueDepth: 0,
        dropped: 0,
        writeErrors: 0,
        rateLimited: 0,
      }),
      exceptionsActive: () => new Map(),
    },
    '0.0.0',
  );
  m.initSeries(
    {
      groups: ['students', 'default'],
      categories: ['facebook', 'encrypted-dns'],
      upstreams: ['1.1.1.3:53'],
      signalKinds: ['vpn-proxy', 'tunnel'],
    },
    stats,
  );
  const text = await m.registry.metrics();
  for (const series of [
    'webfilter_config_reload_total{outcome="failure"} 0',
    'webfilter_config_reload_total{outcome="success"} 0',
    'webfilter_upstream_requests_total{upstream="1.1.1.3:53",outcome="ok"} 0',
    'webfilter_upstream_requests_total{upstream="1.1.1.3:53",outcome="timeout"} 0',
    'webfilter_upstream_duration_seconds_count{upstream="1.1.1.3:53"} 0',
    'webfilter_blocked_total{group="students",category="encrypted-dns"} 0',
    'webfilter_circumvention_signals_total{group="none",kind="tunnel"} 0',
    'webfilter_responses_total{group="default",result="servfail"} 0',
    'webfilter_queries_total{protocol="tcp",group="students",qtype="HTTPS"} 0',
    'webfilter_request_duration_seconds_count{result="blocked"} 0',
  ])
    assert.ok(text.includes(`${series}\n`), `missing ${series}`);
});

test.run();
