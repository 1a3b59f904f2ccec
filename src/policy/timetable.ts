import type { CompiledGroup } from './policy.js';
import { intervalsAround, type Schedule } from '../time/schedule.js';
import { localToEpoch, wallTime } from '../time/zoned-time.js';

/** A group's time-dependent rules, as category masks. */
export interface GroupTimeRules {
  group: CompiledGroup;
  /** Categories blocked except while the schedule runs. */
  allowDuring: { schedule: string; mask: Uint32Array }[];
  /** Categories blocked only while the schedule runs. */
  blockDuring: { schedule: string; mask: Uint32Array }[];
}

interface Segment {
  from: number;
  until: number;
  /** Effective groups now, for groups with time rules. */
  now: Map<string, CompiledGroup>;
  /** Effective groups from `until` on. */
  next: Map<string, CompiledGroup>;
}

/**
 * Schedules compiled into effective group masks over time. The current segment (the span in which
 * no schedule starts or stops and the local date does not change) is computed once; a query only
 * compares the clock with the segment's end and looks its group up: O(1), no date parsing.
 */
export class Timetable {
  private seg: Segment = { from: 0, until: 0, now: new Map(), next: new Map() };

  constructor(
    readonly schedules: readonly Schedule[],
    readonly timezone: string,
    private readonly rules: readonly GroupTimeRules[],
  ) {}

  /** True when no group has time rules (then `effective` returns groups unchanged). */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The group as it applies at `now`. */
  effective(group: CompiledGroup, now: number): CompiledGroup {
    if (this.rules.length === 0) return group;
    if (now >= this.seg.until || now < this.seg.from) this.seg = this.segment(now);
    return this.seg.now.get(group.name) ?? group;
  }

  /**
   * The group as it will apply after the current segment ends, and when that is; null when the
   * group has no time rules. Lets answers allowed now be given TTLs that end at the change.
   */
  upcoming(group: CompiledGroup, now: number): { group: CompiledGroup; at: number } | null {
    if (this.rules.length === 0) return null;
    if (now >= this.seg.until || now < this.seg.from) this.seg = this.segment(now);
    const next = this.seg.next.get(group.name);
    return next ? { group: next, at: this.seg.until } : null;
  }

  /** The schedules running at `t` and the window that makes each run (for `webfilter check`). */
  activeAt(t: number): { schedule: string; window: string }[] {
    const day = wallTime(t, this.timezone).day;
    const out: { schedule: string; window: string }[] = [];
    for (const s of this.schedules) {
      const hit = intervalsAround(s, day, this.timezone).find((i) => i.start <= t && t < i.end);
      if (hit) out.push({ schedule: s.name, window: hit.text });
    }
    return out;
  }

  private segment(now: number): Segment {
    const day = wallTime(now, this.timezone).day;
    let from = localToEpoch(day, 0, this.timezone);
    let until = localToEpoch(day + 1, 0, this.timezone);
    for (const s of this.schedules) {
      for (const i of intervalsAround(s, day, this.timezone)) {
        for (const b of [i.start, i.end]) {
          if (b > now && b < until) until = b;
          if (b <= now && b > from) from = b;
        }
      }
    }
    return { from, until, now: this.groupsAt(now), next: this.groupsAt(until) };
  }

  private groupsAt(t: number): Map<string, CompiledGroup> {
    const active = new Set(this.activeAt(t).map((a) => a.schedule));
    const out = new Map<string, CompiledGroup>();
    for (const r of this.rules) {
      const mask = Uint32Array.from(r.group.blockMask);
      for (const a of r.allowDuring) if (active.has(a.schedule)) for (let i = 0; i < mask.length; i++) mask[i] &= ~a.mask[i];
      for (const b of r.blockDuring) if (active.has(b.schedule)) for (let i = 0; i < mask.length; i++) mask[i] |= b.mask[i];
      out.set(r.group.name, { name: r.group.name, blockMask: mask });
    }
    return out;
  }
}
