/**
 * `npm run bench:shared`: exception propagation between filters sharing one PostgreSQL store. Two
 * real daemons of one site (node A on 127.0.0.21, node B on 127.0.0.22) and a throwaway PostgreSQL
 * 15 cluster (test/helpers/postgres.ts). BENCH_CHANGES (100) changes are made one after another by a
 * third client of the store (as `webfilter exception add/revoke` would, through the repository):
 * even ones add an exception for a blocked domain, odd ones revoke it. For each, the time from the
 * change's commit to both nodes answering accordingly (polled every 2 ms from the bench). Reports
 * p50/p95/p99/max per node; writes its section of bench/shared.md. Target (issue 17): p99 ≤ 1 s.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresSchema } from '../src/config/shared-schema.js';
import { RCODE } from '../src/dns/constants.js';
import { PostgresShared } from '../src/storage/postgres/postgres-shared.js';
import { cli } from '../test/helpers/cli.js';
import { startDaemon, testConfig, LISTS, type DaemonProcess } from '../test/helpers/daemon-process.js';
import { udpQuery } from '../test/helpers/dns-client.js';
import { startFakeUpstream } from '../test/helpers/fake-upstream.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { header, query, reply, rr } from '../test/helpers/wire-builder.js';
import { writeSection } from './md-section.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const STUDENT = { localAddress: '127.0.0.10' };
const GROUPS = '  students: { clients: [127.0.0.10/32], block: [facebook, instagram] }\n  default: { block: [facebook] }';

const config = (node: string, address: string, url: string, upstream: number) =>
  testConfig({
    upstreams: [upstream],
    groups: GROUPS,
    server: `  listen: ["${address}:0"]\n  allowed_clients: [127.0.0.10/32]`,
    extra: `site: bench\nnode: ${node}\nshared: { postgres: { url: "${url}" } }`,
  });

async function rcode(d: DaemonProcess): Promise<number | null> {
  const r = await udpQuery(d.port, query('www.instagram.com'), {
    ...STUDENT,
    host: d.addresses[0].split(':')[0],
    timeoutMs: 1000,
  });
  return r ? header(r).rcode : null;
}

async function flipped(d: DaemonProcess, want: number, from: number): Promise<number> {
  while ((await rcode(d)) !== want) {
    if (Date.now() - from > 30_000) throw new Error(`${d.addresses[0]} did not answer ${want} within 30 s`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now();
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

const pg = await startPostgres();
const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
const url = await pg.createDatabase('bench');
const a = await startDaemon(config('dns-a', '127.0.0.21', url, up.port), LISTS);
const b = await startDaemon(config('dns-b', '127.0.0.22', url, up.port), LISTS);
const store = new PostgresShared({ site: 'bench', node: 'bench-cli', postgres: postgresSchema.parse({ url }), urlFile: null });
const delays: Record<string, number[]> = { A: [], B: [] };
try {
  // Both daemons have migrated, listen and have reported.
  for (;;) {
    const s = await cli(['--config', a.configFile, 'shared', 'status', '--json']);
    if (s.code === 0 && JSON.parse(s.stdout).nodes.length === 2) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const by = () => ({ actor: 'bench', ip: 'cli', at: Date.now(), recordedAs: 'bench' });
  let id = 0;
  for (let i = 0; i < CHANGES; i++) {
    const opening = i % 2 === 0;
    if (opening) {
      const e = await store.exceptions.add(
        {
          targetKind: 'group',
          target: 'students',
          categories: [],
          domains: ['instagram.com'],
          startsAt: Date.now(),
          expiresAt: Date.now() + 3_600_000,
          reason: 'bench',
          approvedBy: 'bench',
        },
        by(),
      );
      id = e.id;
    } else await store.exceptions.revoke(id, 'bench', by());
    const t0 = performance.now();
    const want = opening ? RCODE.NOERROR : RCODE.NXDOMAIN;
    const [ta, tb] = await Promise.all([flipped(a, want, Date.now()), flipped(b, want, Date.now())]);
    delays.A.push(ta - t0);
    delays.B.push(tb - t0);
  }
} finally {
  await store.close();
  await a.stop();
  await b.stop();
  await up.close();
  await pg.destroy();
}

const row = (n: string) =>
  `| node ${n} | ${CHANGES} | ${[50, 95, 99].map((p) => pct(delays[n], p).toFixed(1)).join(' | ')} | ${Math.max(...delays[n]).toFixed(1)} |`;
const body = `## Exception propagation between two filters (issue 17)

${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}: two daemons of one site on
loopback sharing a local PostgreSQL 15 (throwaway cluster, fsync off); each change (add, then revoke, alternately)
committed by a third client; ms from the commit to the node answering accordingly (polled every 2 ms).
Re-run: \`npm run bench:shared\` (BENCH_CHANGES, default 100). Target: p99 ≤ 1000 ms.

| node | changes | p50 ms | p95 ms | p99 ms | max ms |
| --- | --- | --- | --- | --- | --- |
${row('A')}
${row('B')}
`;
writeSection(path.join(ROOT, 'bench/shared.md'), 'propagation', body);
console.log(body);
