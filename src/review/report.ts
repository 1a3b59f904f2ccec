import type Database from 'better-sqlite3';
import { exceptionsBetween, type ExceptionRecord } from '../exceptions/exception-store.js';
import { signalEntries, type SignalEntry } from './queries.js';

/** The weekly summary for the online safety officer / DSL. */
export interface ReportData {
  from: number;
  to: number;
  generatedAt: number;
  totals: { blocked: number; signals: number; devices: number };
  byGroupCategory: { group: string; category: string; count: number }[];
  topDevices: { client: string; device: string; group: string; blocked: number }[];
  signalsByDevice: { client: string; device: string; group: string; signals: SignalEntry[] }[];
  exceptions: ExceptionRecord[];
  days: { day: string; blocked: number; signals: number; unusual: string }[];
}

/** A day is unusual when it has more than twice the period's median and at least this many. */
const UNUSUAL_MIN = 20;

/** Blocked attempts in [from, to) per group and category, most first (the report's and the console overview's). */
export function blockedByGroupCategory(db: Database.Database, from: number, to: number): ReportData['byGroupCategory'] {
  return db
    .prepare(
      'SELECT grp AS "group", category, count(*) AS count FROM blocked WHERE ts >= @from AND ts < @to GROUP BY grp, category ORDER BY count DESC',
    )
    .all({ from, to }) as ReportData['byGroupCategory'];
}

/** Gathers the report for [from, to) from the evidence database. */
export function buildReport(db: Database.Database, from: number, to: number, now = Date.now()): ReportData {
  const p = { from, to };
  const byGroupCategory = blockedByGroupCategory(db, from, to);
  const topDevices = db
    .prepare(
      `SELECT client, device, grp AS "group", count(*) AS blocked FROM blocked WHERE ts >= @from AND ts < @to
       GROUP BY client, device, grp ORDER BY blocked DESC LIMIT 10`,
    )
    .all(p) as ReportData['topDevices'];
  const signals = signalEntries(db, { since: from, until: to });
  const byDevice = new Map<string, ReportData['signalsByDevice'][number]>();
  for (const s of [...signals].reverse()) {
    const key = `${s.client}\u0000${s.device}`;
    const d = byDevice.get(key) ?? { client: s.client, device: s.device, group: s.group, signals: [] };
    d.signals.push(s);
    byDevice.set(key, d);
  }
  const signalsByDevice = [...byDevice.values()].sort((a, b) => sum(b.signals) - sum(a.signals));

  const local = (col: string) => `date(${col} / 1000, 'unixepoch', 'localtime')`;
  const blockedDays = db
    .prepare(`SELECT ${local('ts')} AS day, count(*) AS n FROM blocked WHERE ts >= @from AND ts < @to GROUP BY day`)
    .all(p) as { day: string; n: number }[];
  const signalDays = db
    .prepare(
      `SELECT ${local('last_ts')} AS day, sum(count) AS n FROM signals WHERE last_ts >= @from AND first_ts < @to GROUP BY day`,
    )
    .all(p) as { day: string; n: number }[];
  const dayNames = [...new Set([...blockedDays.map((d) => d.day), ...signalDays.map((d) => d.day)])].sort();
  const bMap = new Map(blockedDays.map((d) => [d.day, d.n]));
  const sMap = new Map(signalDays.map((d) => [d.day, d.n]));
  const mb = median(dayNames.map((d) => bMap.get(d) ?? 0));
  const ms = median(dayNames.map((d) => sMap.get(d) ?? 0));
  const days = dayNames.map((day) => {
    const blocked = bMap.get(day) ?? 0;
    const sig = sMap.get(day) ?? 0;
    const why: string[] = [];
    if (dayNames.length >= 3 && blocked >= UNUSUAL_MIN && blocked > 2 * mb)
      why.push(`blocked attempts ${blocked} vs a typical ${mb}`);
    if (dayNames.length >= 3 && sig >= 5 && sig > 2 * ms) why.push(`signals ${sig} vs a typical ${ms}`);
    return { day, blocked, signals: sig, unusual: why.join('; ') };
  });
  const devices = (
    db.prepare('SELECT count(DISTINCT client) AS n FROM blocked WHERE ts >= @from AND ts < @to').get(p) as { n: number }
  ).n;
  return {
    from,
    to,
    generatedAt: now,
    totals: { blocked: byGroupCategory.reduce((n, r) => n + r.count, 0), signals: sum(signals), devices },
    byGroupCategory,
    topDevices,
    signalsByDevice,
    exceptions: exceptionsBetween(db, from, to),
    days,
  };
}

function sum(signals: SignalEntry[]): number {
  return signals.reduce((n, s) => n + s.count, 0);
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
