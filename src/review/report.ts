import type { ExceptionRecord, ExceptionsRepository } from '../storage/exceptions.js';
import type { PermissionRequest, RequestsRepository } from '../storage/requests.js';
import type { ReviewRepository, SignalEntry, SignalTally } from '../storage/review.js';

/** The weekly summary for the online safety officer / DSL. */
export interface ReportData {
  from: number;
  to: number;
  generatedAt: number;
  /** `signals`: rows (device, kind, domain within 10 minutes); `occurrences`: the sum of their counts. */
  totals: { blocked: number; signals: number; occurrences: number; devices: number; unreviewed: number };
  byGroupCategory: { group: string; category: string; count: number }[];
  topDevices: { client: string; device: string; group: string; blocked: number }[];
  /** Per device, counted in the database; `signals`: the rows themselves, unreviewed first (empty when not asked for). */
  signalsByDevice: (Omit<SignalTally['devices'][number], 'signals'> & { signalCount: number; signals: SignalEntry[] })[];
  exceptions: ExceptionRecord[];
  /** Permission requests made or decided in the period (granted, declined, expired, still waiting). */
  permissions: PermissionRequest[];
  days: { day: string; blocked: number; signals: number; occurrences: number; unusual: string }[];
}

/** A day is unusual when it has more than twice the period's median and at least this many. */
const UNUSUAL_MIN = 20;

/** The local date ("2026-11-24") of a time, as the report's days are counted (formatShort's date). */
function dayOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Gathers the report for [from, to) from the review, exceptions and requests repositories. */
export async function buildReport(
  review: ReviewRepository,
  exceptions: ExceptionsRepository,
  requests: RequestsRepository,
  from: number,
  to: number,
  now = Date.now(),
  /** signalRows: false leaves out the signal rows (the console's page shows only the per-device counts). */
  opts: { signalRows?: boolean } = {},
): Promise<ReportData> {
  const byGroupCategory = await review.blockedByGroupCategory(from, to);
  const topDevices = await review.topBlockedDevices(from, to, 10);
  // Counted in the database; the rows themselves are read only for a report that lists them.
  const tally = await review.signalTally(from, to);
  const rows = opts.signalRows === false ? [] : await review.signals({ since: from, until: to });
  const rowsOf = new Map<string, SignalEntry[]>();
  for (const s of [...rows].reverse()) {
    const key = `${s.client}\u0000${s.device}`;
    rowsOf.set(key, [...(rowsOf.get(key) ?? []), s]);
  }
  // Unreviewed first: devices with a signal nobody has dealt with yet, and within a device its
  // unreviewed signals, come before the rest (then the most occurrences first, then the earliest).
  const signalsByDevice = [...tally.devices]
    .sort((a, b) => Number(b.unreviewed > 0) - Number(a.unreviewed > 0) || b.occurrences - a.occurrences || a.first - b.first)
    .map(({ signals: signalCount, ...d }) => ({
      ...d,
      signalCount,
      signals: (rowsOf.get(`${d.client}\u0000${d.device}`) ?? []).sort((a, b) => Number(!!a.review) - Number(!!b.review)),
    }));

  // Days in local time: blocked attempts by the hour they fell in, signals by when last seen.
  const bMap = new Map<string, number>();
  for (const h of await review.blockedPerHour(from, to)) {
    const day = dayOf(h.hour * 3_600_000);
    bMap.set(day, (bMap.get(day) ?? 0) + h.count);
  }
  const sMap = new Map<string, number>();
  const rowsByDay = new Map<string, number>();
  for (const q of tally.quarters) {
    const day = dayOf(q.quarter);
    sMap.set(day, (sMap.get(day) ?? 0) + q.occurrences);
    rowsByDay.set(day, (rowsByDay.get(day) ?? 0) + q.signals);
  }
  const dayNames = [...new Set([...bMap.keys(), ...sMap.keys()])].sort();
  const mb = median(dayNames.map((d) => bMap.get(d) ?? 0));
  const ms = median(dayNames.map((d) => sMap.get(d) ?? 0));
  const days = dayNames.map((day) => {
    const blocked = bMap.get(day) ?? 0;
    const sig = sMap.get(day) ?? 0;
    const why: string[] = [];
    if (dayNames.length >= 3 && blocked >= UNUSUAL_MIN && blocked > 2 * mb)
      why.push(`blocked attempts ${blocked} vs a typical ${mb}`);
    if (dayNames.length >= 3 && sig >= 5 && sig > 2 * ms) why.push(`signal occurrences ${sig} vs a typical ${ms}`);
    return { day, blocked, signals: rowsByDay.get(day) ?? 0, occurrences: sig, unusual: why.join('; ') };
  });
  return {
    from,
    to,
    generatedAt: now,
    totals: {
      blocked: byGroupCategory.reduce((n, r) => n + r.count, 0),
      signals: tally.devices.reduce((n, d) => n + d.signals, 0),
      occurrences: tally.devices.reduce((n, d) => n + d.occurrences, 0),
      unreviewed: tally.devices.reduce((n, d) => n + d.unreviewed, 0),
      devices: await review.blockedDeviceCount(from, to),
    },
    byGroupCategory,
    topDevices,
    signalsByDevice,
    exceptions: await exceptions.between(from, to),
    permissions: (await requests.list({ since: from, until: to }))
      .filter((r) => r.requestedAt >= from || (r.decidedAt !== null && r.decidedAt >= from && r.decidedAt < to))
      .reverse(),
    days,
  };
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
