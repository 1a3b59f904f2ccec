/**
 * Two schools' evidence for the trust-wide review tests: each box's rows written through the real
 * SQLite writer (Storage.evidence), then shipped into one shared PostgreSQL store by the real
 * shipper (evidence/shipper.ts), as a filter with `shared` does. Every name of a site carries its
 * tag, so a test can look for any trace of the other site in what a reader was given.
 */
import path from 'node:path';
import { postgresSchema } from '../../src/config/shared-schema.js';
import type { Rows } from '../../src/storage/evidence.js';
import { loadStorage, openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from './daemon-process.js';
import { EvidenceShipper } from '../../src/evidence/shipper.js';
import type { SharedStorage } from '../../src/storage/shared-storage.js';
import type { PgCluster } from './postgres.js';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** A Tuesday 10:00 UTC; the evidence spans the two days before it. */
export const NOW = Date.UTC(2026, 10, 24, 10, 0, 0);

export const SITE_A = 'carres-grammar';
export const SITE_B = 'kshs';
/** What only site A's rows contain, and only site B's (device names, users, DNS names). */
export const TAG = { [SITE_A]: 'carres', [SITE_B]: 'kshsecret' } as const;

/** One school's evidence: blocked attempts (with repeats), signals, access aggregates and rows. */
export function siteRows(site: keyof typeof TAG, shift = 0): Rows {
  const t = TAG[site];
  const at = (h: number, m = 0) => NOW - 2 * DAY + h * HOUR + m * 60_000 + shift;
  const blocked = (ts: number, device: string, qname: string, over: Partial<Rows['blocked'][number]> = {}) => ({
    ts,
    lastTs: ts,
    count: 1,
    joinMs: 120_000,
    client: `10.20.1.${device.endsWith('1') ? 5 : 6}`,
    device,
    grp: 'students',
    qname,
    qtype: 'A',
    category: 'facebook',
    entry: 'facebook.com',
    response: 'NXDOMAIN',
    transport: 'udp',
    via: '',
    user: '',
    ...over,
  });
  const signal = (ts: number, device: string, kind: string, domain: string, user = '') => ({
    ts,
    client: `10.20.1.${device.endsWith('1') ? 5 : 6}`,
    device,
    grp: 'students',
    kind,
    severity: 'high',
    qname: `www.${domain}`,
    domain,
    detail: `${t} detail`,
    user,
    count: 1,
  });
  const dev1 = `${t}-lt-1`;
  const dev2 = `${t}-pc-2`;
  return {
    blocked: [
      blocked(at(1, 5), dev1, `www.${t}-facebook.com`),
      blocked(at(1, 6), dev1, `www.${t}-facebook.com`), // a repeat: one row of 2
      blocked(at(3, 10), dev2, `${t}.instagram.com`, { category: 'instagram', user: `${t}.pupil` }),
      blocked(at(25, 30), dev1, `m.${t}-tiktok.com`, { category: 'tiktok', grp: 'staff' }),
      blocked(at(26, 59), dev2, `www.${t}-facebook.com`, { qtype: 'AAAA' }),
      blocked(at(40, 1), dev2, `api.${t}-facebook.com`),
    ],
    signals: [
      signal(at(2), dev1, 'encrypted-dns', `${t}-dns.example`),
      signal(at(2, 3), dev1, 'encrypted-dns', `${t}-dns.example`), // merged: count 2
      signal(at(27), dev2, 'vpn-proxy', `${t}-vpn.example`, `${t}.pupil`),
      signal(at(41), dev1, 'tunnel', `${t}-tunnel.example`),
    ],
    accessHourly: [
      {
        hour: Math.floor(at(1) / HOUR),
        client: '10.20.1.5',
        device: dev1,
        grp: 'students',
        domain: `${t}-news.example`,
        count: 7,
        firstTs: at(1, 1),
        lastTs: at(1, 40),
        user: '',
      },
      {
        hour: Math.floor(at(27) / HOUR),
        client: '10.20.1.6',
        device: dev2,
        grp: 'students',
        domain: `${t}-maths.example`,
        count: 3,
        firstTs: at(27, 2),
        lastTs: at(27, 9),
        user: `${t}.pupil`,
      },
    ],
    access: [
      {
        ts: at(1, 1),
        client: '10.20.1.5',
        device: dev1,
        grp: 'students',
        qname: `www.${t}-news.example`,
        qtype: 'A',
        result: 'forwarded',
        user: '',
      },
      {
        ts: at(27, 2),
        client: '10.20.1.6',
        device: dev2,
        grp: 'students',
        qname: `www.${t}-maths.example`,
        qtype: 'A',
        result: 'cached',
        user: `${t}.pupil`,
      },
    ],
  };
}

/** Ships everything a filter's own file holds that the shared store has not got, as its daemon would. */
export async function shipAll(filter: SharedStorage): Promise<void> {
  const shipper = new EvidenceShipper({
    stores: filter.shipping,
    version: 'test',
    batchRows: 1000,
    intervalMs: 60_000,
    reportMs: 0,
    onState: (st) => {
      if (st.error) throw new Error(`shipping failed: ${st.error}`);
    },
    onLost: () => {},
  });
  await shipper.flush();
  await shipper.close();
}

type PostgresConfig = ReturnType<typeof postgresSchema.parse>;

/** The shared store as read by a filter of `site` (node dns1, its own files `name`.db in `dir`), migrated. */
export async function sharedReader(dir: string, name: string, site: string, postgres: PostgresConfig): Promise<Storage> {
  const shared = await loadStorage(
    {
      evidencePath: path.join(dir, `${name}.db`),
      accountsPath: path.join(dir, `${name}-accounts.db`),
      site,
      shared: { site, node: 'dns1', postgres, urlFile: null },
    },
    'write',
  );
  await (shared as Storage & { shared: { migrate(): Promise<unknown> } }).shared.migrate();
  return shared;
}

/** A box's evidence file opened as a filter of `site` sharing the store: every row shipped, then closed. */
export async function shipFile(evidencePath: string, site: string, postgres: PostgresConfig): Promise<void> {
  const filter = (await loadStorage(
    {
      evidencePath,
      accountsPath: evidencePath.replace(/\.db$/, '-accounts.db'),
      site,
      shared: { site, node: 'dns1', postgres, urlFile: null },
    },
    'write',
  )) as SharedStorage;
  await shipAll(filter);
  await filter.close();
}

export interface TwoSites {
  /** Each school's own box (SQLite, with its `site`). */
  boxes: Record<string, Storage>;
  /** A filter of site A with `shared` set: its `reads` are the shared store's. */
  shared: Storage;
  url: string;
  close(): Promise<void>;
}

/**
 * Both schools' boxes with their evidence, shipped into a fresh database of `pg`; site A's signal 1
 * reviewed on its box. `earlier` (ms): each school's rows again, that much earlier (another month).
 */
export async function twoSites(pg: PgCluster, database: string, earlier = 0): Promise<TwoSites> {
  const url = await pg.createDatabase(database);
  const dir = tempDir();
  const postgres = postgresSchema.parse({ url });
  const boxes: Record<string, Storage> = {};
  for (const site of [SITE_A, SITE_B] as const) {
    const evidencePath = path.join(dir, `${site}.db`);
    const box = openStorage({ evidencePath, accountsPath: path.join(dir, `${site}-accounts.db`), site }, 'write');
    await box.evidence.write(siteRows(site), NOW);
    if (site === SITE_A)
      await box.signalReviews.review(
        1,
        { outcome: 'spoke-to-student', note: 'carres note', by: 'oso.a', at: NOW - HOUR },
        { ts: NOW - HOUR, actor: 'oso.a', ip: 'cli', action: 'signal-review', target: 'signal 1', detail: 'spoke-to-student' },
      );
    if (earlier) await box.evidence.write(siteRows(site, -earlier), NOW);
    boxes[site] = box;
  }
  const shared = await sharedReader(dir, 'shared-node', SITE_A, postgres);
  // Each box as a filter of its site sharing the store: its shipper sends every row over.
  for (const site of [SITE_A, SITE_B]) await shipFile(path.join(dir, `${site}.db`), site, postgres);
  return {
    boxes,
    shared,
    url,
    close: async () => {
      for (const b of Object.values(boxes)) await b.close();
      await shared.close();
    },
  };
}
