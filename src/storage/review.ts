import type { HeartbeatRecord } from './evidence.js';

/**
 * The evidence as the review reads it (CLI `logs`, `report`, `export`, `status`; the console's
 * pages). Every read of evidence goes through ReviewRepository, so a backend can restrict what a
 * reader may see in one place. Times in entries are ISO-8601 UTC text (the documented JSON fields).
 */

/** Filters shared by `logs`, `export`, `report` and the console (checked by review/filter.ts). */
export interface ReviewFilter {
  since: number;
  until: number;
  client?: string;
  /** Exactly this device name (a device's page, `export`). */
  device?: string;
  /** Device names containing this text, in any case ("y9" finds Y9-LT-07): searches. */
  deviceSearch?: string;
  /** A group name; "" for clients in no group. */
  group?: string;
  category?: string;
  kind?: string;
  /** The person (RADIUS accounting, identity feed) the rows were recorded with. */
  user?: string;
  /** Signals only: just the ones not reviewed yet. */
  unreviewed?: boolean;
  /** Blocked attempts whose name contains this text (lower case): the console's name search. */
  name?: string;
  limit?: number;
}

/** A blocked attempt, or a run of repeats of it: `count` attempts from `time` (the first) to `last_time`. */
export interface BlockedEntry {
  /** The school the row is of: rows of the shared store only (the site column of a trust-wide read). */
  site?: string;
  time: string;
  last_time: string;
  count: number;
  client: string;
  device: string;
  group: string;
  qname: string;
  qtype: string;
  category: string;
  entry: string;
  response: string;
  transport: string;
  /** The CNAME/DNAME/HTTPS chain the block was found through, or "". */
  via: string;
  /** Who was at the address (RADIUS accounting, identity feed), or null. */
  user: string | null;
}

/** What was done about a signal (see storage/signal-reviews.ts); `at` is ISO-8601 UTC. */
export interface SignalReviewEntry {
  outcome: string;
  note: string;
  by: string;
  at: string;
}

export interface SignalEntry {
  /** The school the row is of: rows of the shared store only (the site column of a trust-wide read). */
  site?: string;
  /** The signal's number, for `webfilter signal review ID` and the console's review form. */
  id: number;
  first_seen: string;
  last_seen: string;
  client: string;
  device: string;
  group: string;
  kind: string;
  severity: string;
  qname: string;
  domain: string;
  detail: string;
  count: number;
  user: string | null;
  /** What was done about it, or null while it is not reviewed. */
  review: SignalReviewEntry | null;
}

export interface AccessEntry {
  /** The school the row is of: rows of the shared store only (the site column of a trust-wide read). */
  site?: string;
  /** The hour, e.g. "2026-11-24T10:00Z". */
  hour: string;
  client: string;
  device: string;
  group: string;
  domain: string;
  count: number;
  first_seen: string;
  last_seen: string;
  user: string | null;
}

/** One query of `log.access: full`. */
export interface FullAccessEntry {
  /** The school the row is of: rows of the shared store only (the site column of a trust-wide read). */
  site?: string;
  time: string;
  client: string;
  device: string;
  group: string;
  qname: string;
  qtype: string;
  result: string;
  user: string | null;
}

export interface GroupCategoryCount {
  group: string;
  category: string;
  count: number;
}

export interface DeviceCount {
  /** The school the row is of: rows of the shared store only (the site column of a trust-wide read). */
  site?: string;
  client: string;
  device: string;
  group: string;
  blocked: number;
}

/** Signals per device and per quarter hour of their last time, for the report. */
export interface SignalTally {
  /** `first`: the earliest last time among the device's signals (the report's order among equals). */
  devices: {
    /** The shared store's rows only. */
    site?: string;
    client: string;
    device: string;
    group: string;
    signals: number;
    occurrences: number;
    unreviewed: number;
    /** Kinds, those with an unreviewed signal first, then by when last seen. */
    kinds: string[];
    first: number;
  }[];
  /** `quarter`: the start (ms) of the quarter hour the signals were last seen in; any UTC offset is whole quarters. */
  quarters: { quarter: number; signals: number; occurrences: number }[];
}

/**
 * The signals of one device, kind and local day (the day of their last time), counted in the
 * database: what the report lists instead of every signal (a school's week holds ~20,000, nearly all
 * phones' background apps tripping persistent-attempts all day).
 */
export interface SignalGroup {
  /** The shared store's groups only. */
  site?: string;
  client: string;
  device: string;
  kind: string;
  /** The severities stored (one, unless the kind's severity changed between versions). */
  severity: string;
  /** The local midnight (ms) of the day: one of the day starts asked with. */
  day: number;
  signals: number;
  /** The sum of the signals' counts. */
  occurrences: number;
  unreviewed: number;
  /** Reviewed signals per outcome ({ sanction: 1, 'no-action': 3 }). */
  outcomes: Record<string, number>;
  /** The earliest first time and the latest last time (ms). */
  first: number;
  last: number;
  /** Distinct domains (for persistent-attempts: categories) and first names seen, sorted. */
  domains: string[];
  names: string[];
  /** The signal itself when the group holds only one (its id, detail and review), else null. */
  only: SignalEntry | null;
}

/** Signals and occurrences of one local day (of their last time); `at`: a time within that day. */
export interface SignalDayCount {
  at: number;
  signals: number;
  occurrences: number;
}

/**
 * The report's view of a period's signals from one read of them: the groups (as signalGroups), the
 * per-device tally (signalTally's devices, every number the same) and the per-day counts (what
 * signalTally's quarters add up to per local day).
 */
export interface SignalGroupsTally {
  groups: SignalGroup[];
  devices: SignalTally['devices'];
  days: SignalDayCount[];
}

/** The devices blocked in a period: the most blocked first (up to a limit) and how many in all. */
export interface BlockedDevices {
  top: DeviceCount[];
  /** Distinct client addresses (of the shared store: per site) blocked. */
  devices: number;
}

export interface KindCount {
  kind: string;
  /** Signals (rows: one device, kind and domain within 10 minutes). */
  signals: number;
  /** Occurrences (the sum of the signals' counts). */
  n: number;
  /** Distinct client addresses. */
  devices: number;
}

/** A device as the device list shows it: a name and address seen together, and how much of each. */
export interface DeviceSummary {
  /** The school the row is of: rows of the shared store only (the site column of a trust-wide read). */
  site?: string;
  device: string;
  client: string;
  group: string;
  last_seen: string;
  blocked: number;
  signals: number;
}

/** A device asked about by name or by address. */
export type DeviceSubject = { device: string } | { client: string };

export interface ReviewRepository {
  /** Blocked attempts in the period (rows of repeats, each with its count), newest first. */
  blocked(f: ReviewFilter): Promise<BlockedEntry[]>;
  /**
   * How many blocked attempts match (the sum of the rows' counts): from the roll-ups when the filter
   * is a period with a group and category, or with a device or address; else from the rows.
   */
  blockedCount(f: ReviewFilter): Promise<number>;
  /** Circumvention signals overlapping the period, newest first. */
  signals(f: ReviewFilter): Promise<SignalEntry[]>;
  /** Hourly access aggregates overlapping the period, newest first. */
  accessHourly(f: ReviewFilter): Promise<AccessEntry[]>;
  /** One row per query (`log.access: full`), newest first. */
  accessFull(f: ReviewFilter): Promise<FullAccessEntry[]>;
  /** Blocked attempts in [from, to) per group and category, most first. */
  blockedByGroupCategory(from: number, to: number): Promise<GroupCategoryCount[]>;
  /** The devices with the most blocked attempts in [from, to). */
  topBlockedDevices(from: number, to: number, limit: number): Promise<DeviceCount[]>;
  /** Distinct client addresses blocked in [from, to). */
  blockedDeviceCount(from: number, to: number): Promise<number>;
  /** topBlockedDevices and blockedDeviceCount from one read of the per-device roll-up (the report's). */
  blockedDevices(from: number, to: number, limit: number): Promise<BlockedDevices>;
  /** Blocked attempts in [from, to) per hour since the epoch (UTC), hours with none left out. */
  blockedPerHour(from: number, to: number): Promise<{ hour: number; count: number }[]>;
  /** Signal occurrences by kind, of signals last seen at or after `since`, most first. */
  signalsByKind(since: number): Promise<KindCount[]>;
  /**
   * The signals seen in [from, to) tallied per device, counted in the database (a week's report
   * covers ~20,000 signals; reading every row took most of the Reports page's time).
   */
  signalTally(from: number, to: number): Promise<SignalTally>;
  /**
   * The signals seen in [from, to) grouped per device, kind and day, counted in the database.
   * `dayStarts`: the local midnights (ms, ascending, the first at or before `from`); a signal's day is
   * the last start at or before its last time (the last day runs on without end).
   */
  signalGroups(from: number, to: number, dayStarts: number[]): Promise<SignalGroup[]>;
  /**
   * signalGroups with signalTally's devices and per-day counts worked out from the same read of the
   * signals (the report's: the signals are read once, not four times). `lastDayEnd`: the local
   * midnight after the last day start; signals last seen after it count on their own days.
   */
  signalGroupsTally(from: number, to: number, dayStarts: number[], lastDayEnd: number): Promise<SignalGroupsTally>;
  /**
   * Blocked attempts (by time) and signal occurrences (by first time) in `buckets` consecutive
   * buckets of `bucketMs` from `start`.
   */
  activity(start: number, bucketMs: number, buckets: number): Promise<{ blocked: number[]; signals: number[] }>;
  /**
   * Devices (name and address) whose name contains `search` in any case, or whose address starts
   * with it ("" = all), most recently seen first, from every table that names a device.
   */
  devices(search: string, limit: number): Promise<DeviceSummary[]>;
  /** Whether anything at all is stored about the device. */
  deviceKnown(s: DeviceSubject): Promise<boolean>;
  /** The daemon's last heartbeat, or null when it never ran against this store. */
  heartbeat(): Promise<HeartbeatRecord | null>;
}
