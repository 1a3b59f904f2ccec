/** End-to-end with the real Prometheus (Debian package): it scrapes the daemon, loads the rules, answers a query. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { RCODE } from '../../src/dns/constants.js';
import { ROOT, startDaemon, tempDir, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';
import { needTool } from '../helpers/tools.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

test('a real Prometheus scrapes the daemon and reads a counter back', async () => {
  needTool('prometheus');
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
  const dir = tempDir();
  const promPort = await freePort();
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${path.join(ROOT, 'config/prometheus/alerts.yml')}]
scrape_configs:
  - job_name: webfilter
    static_configs: [{ targets: ["${d.metrics}"] }]
`,
  );
  const prom = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: 'ignore' },
  );
  const reap = () => prom.kill('SIGKILL');
  process.once('exit', reap);
  try {
    for (let i = 0; i < 3; i++)
      assert.is(
        header((await udpQuery(d.port, query(`x${i}.facebook.com`), { localAddress: '127.0.0.10' }))!).rcode,
        RCODE.NXDOMAIN,
      );
    const api = async (p: string) =>
      (await (await fetch(`http://127.0.0.1:${promPort}${p}`)).json()) as {
        data: { result: { value: [number, string] }[]; groups?: { rules: unknown[] }[] };
      };
    let value = NaN;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const r = await api(
          `/api/v1/query?query=${encodeURIComponent('webfilter_blocked_total{group="students",category="facebook"}')}`,
        );
        if (r.data.result.length > 0) {
          value = Number(r.data.result[0].value[1]);
          if (value === 3) break;
        }
      } catch {
        // Prometheus not up yet.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.is(value, 3, 'Prometheus scraped webfilter_blocked_total = 3');
    const rules = await api('/api/v1/rules');
    const shipped = readFileSync(path.join(ROOT, 'config/prometheus/alerts.yml'), 'utf8').match(/^\s+- alert: /gm)!.length;
    assert.is(rules.data.groups![0].rules.length, shipped, 'the shipped alert rules load in Prometheus');
    // Every dashboard query (Grafana's variables filled in) is valid PromQL and finds this daemon.
    const dash = readFileSync(path.join(ROOT, 'config/grafana/webfilter.json'), 'utf8');
    const exprs = [...dash.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    assert.ok(exprs.length >= 20);
    for (const e of exprs) {
      const q = e
        .replaceAll('$instance', d.metrics!)
        .replaceAll('$group', '.*')
        .replaceAll('$__rate_interval', '1m')
        .replaceAll('$__range', '1h');
      const r = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
        status: string;
        error?: string;
      };
      assert.is(r.status, 'success', `${q}: ${r.error}`);
    }
    const ready = await api(`/api/v1/query?query=${encodeURIComponent('webfilter_ready')}`);
    assert.is(ready.data.result[0]?.value[1], '1', 'webfilter_ready is 1 on a daemon whose upstream answers');
  } finally {
    prom.kill('SIGTERM');
    process.off('exit', reap);
    await d.stop();
    await up.close();
  }
});

/** Starts Prometheus scraping `target` every second with the shipped rules; returns its API and a stop. */
async function startPrometheus(target: string) {
  needTool('prometheus');
  const dir = tempDir();
  const promPort = await freePort();
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${path.join(ROOT, 'config/prometheus/alerts.yml')}]
scrape_configs:
  - job_name: webfilter
    static_configs: [{ targets: ["${target}"] }]
`,
  );
  const prom = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: 'ignore' },
  );
  const reap = () => prom.kill('SIGKILL');
  process.once('exit', reap);
  /** Names and states of the alerts Prometheus has now (pending or firing). */
  const alerts = async (): Promise<Map<string, string>> => {
    try {
      const r = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json()) as {
        data: { alerts: { labels: { alertname: string }; state: string }[] };
      };
      return new Map(r.data.alerts.map((a) => [a.labels.alertname, a.state]));
    } catch {
      return new Map(); // not up yet
    }
  };
  const waitForAlert = async (name: string, states: string[], during: () => Promise<void>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const state = (await alerts()).get(name);
      if (state && states.includes(state)) return state;
      await during();
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`alert ${name} did not become ${states.join('/')} within ${timeoutMs} ms: ${[...(await alerts())]}`);
  };
  /** Waits until Prometheus has scraped the daemon `n` times (so every series has an earlier sample). */
  const waitForScrapes = async (n: number) => {
    const q = encodeURIComponent('count_over_time(up{job="webfilter"}[5m])');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const r = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${q}`)).json()) as {
          data: { result: { value: [number, string] }[] };
        };
        if (Number(r.data.result[0]?.value[1] ?? 0) >= n) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`Prometheus did not scrape the daemon ${n} times`);
  };
  return {
    waitForAlert,
    waitForScrapes,
    stop() {
      prom.kill('SIGTERM');
      process.off('exit', reap);
    },
  };
}

test('WebfilterNoUpstreamAnswering fires when the daemon starts with a dead upstream', async () => {
  // The upstream never answers, not even the readiness probe: the "ok" series must exist at 0 for
  // rate(ok) == 0 to be true (a series that never appears makes the expression empty).
  const up = await startFakeUpstream(() => null, { answerProbes: false });
  const d = await startDaemon(testConfig({ upstreams: [up.port], timeoutMs: 200 }), LISTS);
  const prom = await startPrometheus(d.metrics!);
  let n = 0;
  try {
    const state = await prom.waitForAlert('WebfilterNoUpstreamAnswering', ['pending', 'firing'], async () => {
      await udpQuery(d.port, query(`dead${n++}.example.org`), { timeoutMs: 50 }).catch(() => null);
    });
    assert.ok(state);
  } finally {
    prom.stop();
    await d.stop();
    await up.close();
  }
});

test('WebfilterReloadFailed fires on the first rejected reload', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const d = await startDaemon(testConfig({ upstreams: [up.port] }), LISTS);
  const prom = await startPrometheus(d.metrics!);
  try {
    // Prometheus has scraped the running daemon before its first reload goes wrong.
    await prom.waitForScrapes(3);
    writeFileSync(d.configFile, 'server: { listen: 5 }\n');
    d.child.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === 'reload rejected: keeping the previous config');
    assert.is(await prom.waitForAlert('WebfilterReloadFailed', ['firing'], async () => {}), 'firing');
  } finally {
    prom.stop();
    await d.stop();
    await up.close();
  }
});

test.run();
