/**
 * Who is at which address (RADIUS accounting, the identity feed), kept so the mappings survive a
 * restart. The daemon's identity service owns the live map; the store holds a copy written by the
 * evidence writer thread, read back at start and by `webfilter identity list` and `check`.
 */

export interface IdentityRecord {
  /** "10.20.3.4", "2001:db8::5" or "2001:db8:1:2::/64". */
  address: string;
  user: string;
  /** The group reported (applied only when it is a configured group), or null. */
  group: string | null;
  mac: string | null;
  /** RADIUS Acct-Session-Id, or null. */
  session: string | null;
  source: 'radius' | 'feed';
  /** The NAS that reported it, or the feed's caller. */
  reporter: string;
  /** Epoch ms. */
  since: number;
  expires: number;
}

/** One change to the mappings, in the order made. */
export type IdentityWrite = { op: 'set'; identity: IdentityRecord } | { op: 'delete'; address: string };

export interface IdentitiesRepository {
  /** Applies changes in order, all or none. */
  apply(changes: readonly IdentityWrite[]): Promise<void>;
  /** The mappings that have not lapsed at `now`, newest first. */
  live(now: number): Promise<IdentityRecord[]>;
  /** Deletes the mappings that lapsed before `now`; returns how many. */
  purge(now: number): Promise<number>;
}
