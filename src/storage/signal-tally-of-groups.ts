import type { SignalDayCount, SignalGroup, SignalTally } from './review.js';

/**
 * What signalTally says of a period, worked out from the period's signal groups instead of from
 * three more scans of the signals (the report asked both; a 2,000-device week's signals were read
 * four times). Both backends group with these few aggregates besides the group's own counts, so
 * every number is the one the tally's SQL gives: see test/unit/signal-tally-of-groups.test.ts.
 */
export interface GroupTallyParts {
  /** The earliest last time of the group's signals, and of its unreviewed ones (null: none unreviewed). */
  lastFirst: number;
  openFirst: number | null;
  /** The least and greatest group name among the group's signals (equal unless the device changed group). */
  grpMin: string;
  grpMax: string;
}

export type TalliedGroup = SignalGroup & GroupTallyParts;

/** The key of a group's device: site (shared store only), address and name. */
export const deviceKey = (g: { site?: string; client: string; device: string }): string =>
  `${g.site ?? ''}\u0000${g.client}\u0000${g.device}`;

/** The group as signalGroups returns it (without the tally's aggregates). */
export function plainGroup(g: TalliedGroup): SignalGroup {
  const { lastFirst: _l, openFirst: _o, grpMin: _a, grpMax: _b, ...plain } = g;
  return plain;
}

/**
 * The devices whose signals carry more than one group name: for them the device's group (the one
 * of its earliest signal) is asked of the database; every other device's is its only one.
 */
export function mixedGroupDevices(groups: readonly TalliedGroup[]): Set<string> {
  const only = new Map<string, string>();
  const mixed = new Set<string>();
  for (const g of groups) {
    const key = deviceKey(g);
    const seen = only.get(key);
    if (g.grpMin !== g.grpMax || (seen !== undefined && seen !== g.grpMin)) mixed.add(key);
    if (seen === undefined) only.set(key, g.grpMin);
  }
  return mixed;
}

/** Code-point order, as SQLite compares text (BINARY) and PostgreSQL with COLLATE "C". */
function cmp(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * signalTally's devices from the groups: counts summed; `first` the least last time; kinds those with
 * an unreviewed signal first, then by when first last-seen (unreviewed ones for those), then by name;
 * `group` from `earliestGroup` for a mixed device (mixedGroupDevices), else its only group. Ordered
 * by site, address and name, as the tally's GROUP BY returns them, with its fields in its order (the
 * report's JSON is the same text).
 */
export function tallyDevices(
  groups: readonly TalliedGroup[],
  earliestGroup: ReadonlyMap<string, string>,
): SignalTally['devices'] {
  interface Acc {
    d: SignalTally['devices'][number];
    kinds: Map<string, { open: number | null; any: number }>;
  }
  const acc = new Map<string, Acc>();
  for (const g of groups) {
    const key = deviceKey(g);
    let a = acc.get(key);
    if (!a) {
      a = {
        d: {
          ...(g.site !== undefined ? { site: g.site } : {}),
          client: g.client,
          device: g.device,
          group: earliestGroup.get(key) ?? g.grpMin,
          first: g.lastFirst,
          signals: 0,
          occurrences: 0,
          unreviewed: 0,
          kinds: [],
        },
        kinds: new Map(),
      };
      acc.set(key, a);
    }
    a.d.signals += g.signals;
    a.d.occurrences += g.occurrences;
    a.d.unreviewed += g.unreviewed;
    if (g.lastFirst < a.d.first) a.d.first = g.lastFirst;
    const k = a.kinds.get(g.kind);
    if (!k) a.kinds.set(g.kind, { open: g.openFirst, any: g.lastFirst });
    else {
      if (g.openFirst !== null && (k.open === null || g.openFirst < k.open)) k.open = g.openFirst;
      if (g.lastFirst < k.any) k.any = g.lastFirst;
    }
  }
  const out: SignalTally['devices'] = [];
  for (const { d, kinds } of acc.values()) {
    d.kinds = [...kinds]
      .sort(
        ([ka, a], [kb, b]) =>
          Number(a.open === null) - Number(b.open === null) || (a.open ?? a.any) - (b.open ?? b.any) || cmp(ka, kb),
      )
      .map(([kind]) => kind);
    out.push(d);
  }
  return out.sort((a, b) => cmp(a.site ?? '', b.site ?? '') || cmp(a.client, b.client) || cmp(a.device, b.device));
}

/**
 * Signals and occurrences per local day of their last time: each group's day (its start), except that
 * the signals of the last day last seen after that day ended (`tail`, per quarter hour of their last
 * time: a signal still going on at the period's end) count on their own days, as the tally's quarters do.
 */
export function tallyDays(
  groups: readonly SignalGroup[],
  tail: readonly { quarter: number; signals: number; occurrences: number }[],
): SignalDayCount[] {
  const byDay = new Map<number, SignalDayCount>();
  let last = -Infinity;
  for (const g of groups) {
    const d = byDay.get(g.day);
    if (d) {
      d.signals += g.signals;
      d.occurrences += g.occurrences;
    } else byDay.set(g.day, { at: g.day, signals: g.signals, occurrences: g.occurrences });
    if (g.day > last) last = g.day;
  }
  const lastDay = byDay.get(last);
  const days = [...byDay.values()];
  for (const q of tail) {
    if (!lastDay) throw new Error('signal tally: signals after the last day, but no group holds them');
    lastDay.signals -= q.signals;
    lastDay.occurrences -= q.occurrences;
    days.push({ at: q.quarter, signals: q.signals, occurrences: q.occurrences });
  }
  return days.filter((d) => d.signals > 0).sort((a, b) => a.at - b.at);
}
