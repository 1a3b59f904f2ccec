import type { AuditEntry } from './accounts.js';
import type { ReviewRepository, SignalEntry, SignalTally } from './review.js';
import { scopeIncludes, type SiteScope } from './scope.js';
import { ReviewError, type SignalReviewsRepository } from './signal-reviews.js';

/**
 * Whose evidence one read may return (issue 17): the reader's scope (what their account may see)
 * and, optionally, the one site they chose in a site filter. A store hands out repositories bound to
 * a ReadScope (Storage.reads), and every query of those repositories carries it in its WHERE
 * clause, so no page, export, report or CLI read can return another site's rows whatever it asks.
 */
export interface ReadScope {
  scope: SiteScope;
  /** The site filter: only this site (nothing, when it is outside `scope`). */
  site?: string;
}

/** The review's reads of the evidence, bound to one ReadScope. */
export interface ScopedReads {
  readonly review: ReviewRepository;
  readonly signalReviews: SignalReviewsRepository;
  /**
   * True when the rows come from the shared store (every site of the scope, each row with its
   * `site`): pages and tables then show a site filter and a site column.
   */
  readonly trustWide: boolean;
}

/** The sites a read may return, or null for every site (the whole trust, no site filter). */
export function readSites(rs: ReadScope): readonly string[] | null {
  if (rs.site !== undefined) return scopeIncludes(rs.scope, rs.site) ? [rs.site] : [];
  return rs.scope.kind === 'trust' ? null : rs.scope.sites;
}

/**
 * Whether one box's own store (all its rows are of `boxSite`; no site on a box without `site:`) is
 * visible to a read: a box without a site is seen only by a trust-wide read with no site filter.
 */
export function boxVisible(rs: ReadScope, boxSite: string | undefined): boolean {
  const sites = readSites(rs);
  return sites === null || (boxSite !== undefined && sites.includes(boxSite));
}

const none = async () => [];
const zero = async () => 0;

/** What a read outside its scope gets: nothing (and a review of a signal it cannot see is refused). */
export const NO_REVIEW: ReviewRepository = {
  blocked: none,
  blockedCount: zero,
  signals: none,
  accessHourly: none,
  accessFull: none,
  blockedByGroupCategory: none,
  topBlockedDevices: none,
  blockedDeviceCount: zero,
  blockedDevices: async () => ({ top: [], devices: 0 }),
  blockedPerHour: none,
  signalsByKind: none,
  signalTally: async (): Promise<SignalTally> => ({ devices: [], quarters: [] }),
  signalGroups: none,
  signalGroupsTally: async () => ({ groups: [], devices: [], days: [] }),
  activity: async (_start, _size, n) => ({ blocked: new Array<number>(n).fill(0), signals: new Array<number>(n).fill(0) }),
  devices: none,
  deviceKnown: async () => false,
  heartbeat: async () => null,
};

export const NO_SIGNAL_REVIEWS: SignalReviewsRepository = {
  signal: async (): Promise<SignalEntry | null> => null,
  review: async (id) => {
    throw new ReviewError(noSignal(id));
  },
  auditEntries: async (): Promise<AuditEntry[]> => [],
  unreviewedCount: zero,
};

/** The message for a signal that does not exist or is outside the reader's scope (the same: nothing leaks). */
export function noSignal(id: number): string {
  return `no signal ${id} (it may never have existed, or passed its retention period)`;
}
