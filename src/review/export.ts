import type Database from 'better-sqlite3';
import { csv } from '../format/output.js';
import { accessEntries, blockedEntries, fullAccessEntries, signalEntries, type ReviewFilter } from './queries.js';

/** Everything stored about one device (a subject access request): the CLI's `export` and the console's. */
export function exportData(db: Database.Database, f: ReviewFilter, now: number) {
  return {
    subject: f.client ? { client: f.client } : { device: f.device },
    generated_at: new Date(now).toISOString(),
    blocked: blockedEntries(db, f),
    signals: signalEntries(db, f),
    access_hourly: accessEntries(db, f),
    access: fullAccessEntries(db, f),
  };
}

export type ExportData = ReturnType<typeof exportData>;

/** The export as one CSV table, a row per record. */
export function exportCsv(data: ExportData): string {
  const rows = [
    ...data.blocked.map((r) => ({
      record: 'blocked',
      time: r.time,
      client: r.client,
      device: r.device,
      group: r.group,
      name: r.qname,
      type: r.qtype,
      category: r.category,
      detail: `${r.entry} → ${r.response}${r.via ? ` (via ${r.via})` : ''}`,
      count: 1,
    })),
    ...data.signals.map((r) => ({
      record: 'signal',
      time: r.first_seen,
      client: r.client,
      device: r.device,
      group: r.group,
      name: r.qname,
      type: r.kind,
      category: r.severity,
      detail: `${r.detail} (last ${r.last_seen})`,
      count: r.count,
    })),
    ...data.access_hourly.map((r) => ({
      record: 'access-hour',
      time: r.hour,
      client: r.client,
      device: r.device,
      group: r.group,
      name: r.domain,
      type: '',
      category: '',
      detail: '',
      count: r.count,
    })),
    ...data.access.map((r) => ({
      record: 'access',
      time: r.time as string,
      client: r.client as string,
      device: r.device as string,
      group: r.group as string,
      name: r.qname as string,
      type: r.qtype as string,
      category: '',
      detail: r.result as string,
      count: 1,
    })),
  ];
  return csv(rows, ['record', 'time', 'client', 'device', 'group', 'name', 'type', 'category', 'detail', 'count']);
}
