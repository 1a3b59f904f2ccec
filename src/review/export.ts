import { csv } from '../format/output.js';
import type {
  AccessEntry,
  BlockedEntry,
  FullAccessEntry,
  ReviewFilter,
  ReviewRepository,
  SignalEntry,
} from '../storage/review.js';

/** Everything stored about one device or person (a subject access request): the CLI's `export` and the console's. */
export interface ExportData {
  subject: { client: string } | { device: string | undefined } | { user: string };
  generated_at: string;
  blocked: BlockedEntry[];
  signals: SignalEntry[];
  access_hourly: AccessEntry[];
  access: FullAccessEntry[];
}

export async function exportData(review: ReviewRepository, f: ReviewFilter, now: number): Promise<ExportData> {
  return {
    subject: f.client ? { client: f.client } : f.user !== undefined ? { user: f.user } : { device: f.device },
    generated_at: new Date(now).toISOString(),
    blocked: await review.blocked(f),
    signals: await review.signals(f),
    access_hourly: await review.accessHourly(f),
    access: await review.accessFull(f),
  };
}

/** The export as one CSV table, a row per record. */
export function exportCsv(data: ExportData): string {
  const rows = [
    ...data.blocked.map((r) => ({
      record: 'blocked',
      time: r.time,
      client: r.client,
      device: r.device,
      group: r.group,
      user: r.user ?? '',
      name: r.qname,
      type: r.qtype,
      category: r.category,
      detail: `${r.entry} → ${r.response}${r.via ? ` (via ${r.via})` : ''}${r.count > 1 ? ` (last ${r.last_time})` : ''}`,
      count: r.count,
    })),
    ...data.signals.map((r) => ({
      record: 'signal',
      time: r.first_seen,
      client: r.client,
      device: r.device,
      group: r.group,
      user: r.user ?? '',
      name: r.qname,
      type: r.kind,
      category: r.severity,
      // The review is part of the record kept about the device (subject access).
      detail:
        `${r.detail} (last ${r.last_seen})` +
        (r.review
          ? `; reviewed ${r.review.at} by ${r.review.by}: ${r.review.outcome}${r.review.note ? ` — ${r.review.note}` : ''}`
          : '; not reviewed'),
      count: r.count,
    })),
    ...data.access_hourly.map((r) => ({
      record: 'access-hour',
      time: r.hour,
      client: r.client,
      device: r.device,
      group: r.group,
      user: r.user ?? '',
      name: r.domain,
      type: '',
      category: '',
      detail: '',
      count: r.count,
    })),
    ...data.access.map((r) => ({
      record: 'access',
      time: r.time,
      client: r.client,
      device: r.device,
      group: r.group,
      user: r.user ?? '',
      name: r.qname,
      type: r.qtype,
      category: '',
      detail: r.result,
      count: 1,
    })),
  ];
  return csv(rows, ['record', 'time', 'client', 'device', 'group', 'user', 'name', 'type', 'category', 'detail', 'count']);
}
