import type { ExceptionRecord, ExceptionsRepository } from '../storage/exceptions.js';
import type { PermissionRequest, RequestsRepository } from '../storage/requests.js';
import { signalKind } from '../signals/kinds.js';
import type { ReviewRepository, SignalDayCount, SignalGroup, SignalTally } from '../storage/review.js';

/** The weekly summary for the online safety officer / DSL. */
export interface ReportData {
  from: number;
  to: number;
  generatedAt: number;
  /** `signals`: rows (device, kind, domain within 10 minutes); `occurrences`: the sum of their counts. */
  totals: { blocked: number; signals: number; occurrences: number; devices: number; unreviewed: number };
  byGroupCategory: { group: string; category: string; count: number }[];
  topDevices: { client: string; device: string; group: string; blocked: number }[];
  /**
   * Per device, counted in the database; `groups`: its signals per kind and local day, those with an
   * unreviewed signal first (empty when not asked for). Each signal: `webfilter logs signals`.
   */
  signalsByDevice: (Omit<SignalTally['devices'][number], 'signals'> & { signalCount: number; groups: SignalGroup[] })[];
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

/**
 * The local midnights from the one at or before `from` to the one at or before `to` (Date's local
 * fields: the process runs in the config's timezone), so a day is a local day whatever its length.
 */
export function localDayStarts(from: number, to: number): number[] {
  const d = new Date(from);
  const starts = [new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()];
  for (let i = 1; ; i++) {
    const next = new Date(d.getFullYear(), d.getMonth(), d.getDate() + i).getTime();
    if (next > to) return starts;
    starts.push(next);
  }
}

const SEVERITY_RANK: Record<string, number> = { high: 0, medium: 1, low: 2 };

/** 0 for the kinds of high severity (a VPN, a tunnel), 1 medium, 2 low: the most serious first. */
export function severityRank(kinds: readonly string[]): number {
  return Math.min(3, ...kinds.map((k) => SEVERITY_RANK[signalKind(k)?.severity ?? ''] ?? 3));
}

/** Gathers the report for [from, to) from the review, exceptions and requests repositories. */
export async function buildReport(
  review: ReviewRepository,
  exceptions: Pick<ExceptionsRepository, 'between'>,
  requests: Pick<RequestsRepository, 'list'>,
  from: number,
  to: number,
  now = Date.now(),
  /** signalGroups: false leaves out the signals' groups (the console's page shows only the per-device counts). */
  opts: { signalGroups?: boolean } = {},
): Promise<ReportData> {
  const byGroupCategory = await review.blockedByGroupCategory(from, to);
  const blockedDevices = await review.blockedDevices(from, to, 10);
  // Counted in the database: a week's ~20,000 signals are read once, as ~2,000 groups (device, kind,
  // day) with the per-device and per-day tallies worked out from them.
  let tally: { devices: SignalTally['devices']; days: SignalDayCount[] };
  let groups: SignalGroup[] = [];
  if (opts.signalGroups === false) {
    const t = await review.signalTally(from, to);
    tally = { devices: t.devices, days: t.quarters.map((q) => ({ ...q, at: q.quarter })) };
  } else {
    const starts = localDayStarts(from, to);
    const last = new Date(starts[starts.length - 1]);
    const lastDayEnd = new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1).getTime();
    ({ groups, ...tally } = await review.signalGroupsTally(from, to, starts, lastDayEnd));
  }
  const groupsOf = new Map<string, SignalGroup[]>();
  for (const g of groups) {
    const key = `${g.site ?? ''}\u0000${g.client}\u0000${g.device}`;
    const list = groupsOf.get(key);
    if (list) list.push(g);
    else groupsOf.set(key, [g]);
  }
  // Unreviewed first: devices with a signal nobody has dealt with yet, and within a device its groups
  // with an unreviewed signal, come before the rest; then the most serious kind (a VPN attempt before
  // a phone's apps retrying), then the most occurrences, then the earliest (a device's lines: by day).
  // (Each device's and group's rank worked out once, not in every comparison of the sorts.)
  const signalsByDevice = tally.devices
    .map((d) => ({ d, rank: severityRank(d.kinds) }))
    .sort(
      ({ d: a, rank: ra }, { d: b, rank: rb }) =>
        Number(b.unreviewed > 0) - Number(a.unreviewed > 0) || ra - rb || b.occurrences - a.occurrences || a.first - b.first,
    )
    .map(({ d: { signals: signalCount, ...d } }) => ({
      ...d,
      signalCount,
      groups: (groupsOf.get(`${d.site ?? ''}\u0000${d.client}\u0000${d.device}`) ?? [])
        .map((g) => ({ g, rank: severityRank([g.kind]) }))
        .sort(
          ({ g: a, rank: ra }, { g: b, rank: rb }) =>
            Number(b.unreviewed > 0) - Number(a.unreviewed > 0) || ra - rb || a.day - b.day || a.first - b.first,
        )
        .map(({ g }) => g),
    }));

  // Days in local time: blocked attempts by the hour they fell in, signals by when last seen.
  const bMap = new Map<string, number>();
  for (const h of await review.blockedPerHour(from, to)) {
    const day = dayOf(h.hour * 3_600_000);
    bMap.set(day, (bMap.get(day) ?? 0) + h.count);
  }
  const sMap = new Map<string, number>();
  const rowsByDay = new Map<string, number>();
  for (const q of tally.days) {
    const day = dayOf(q.at);
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
      devices: blockedDevices.devices,
    },
    byGroupCategory,
    topDevices: blockedDevices.top,
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
