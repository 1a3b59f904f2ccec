/** End-to-end with the real Prometheus (Debian package): it scrapes the daemon, loads the rules, answers a query. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
    assert.is(rules.data.groups![0].rules.length, 10, 'the shipped alert rules load in Prometheus');
  } finally {
    prom.kill('SIGTERM');
    process.off('exit', reap);
    await d.stop();
    await up.close();
  }
});

test.run();
