import type { Logger } from 'pino';
import type { AccountingRecord } from './accounting.js';
import { parseAddressKey, type AddressKey } from './address-key.js';
import { IdentityIndex, type Identity } from './identity-index.js';
import { STATUS } from './radius-codec.js';

/** The parts of `identity:` (and `groups:`) that decide what a report turns into. */
export interface IdentitySettings {
  defaultTtlMs: number;
  /** Configured group names: a reported group among these is applied. */
  groups: ReadonlySet<string>;
}

/** One mapping from the feed, validated (see feed.ts). */
export interface FeedItem {
  key: AddressKey;
  user: string;
  group: string | null;
  /** null = identity.default_ttl. */
  ttlMs: number | null;
  /** Remove this user's mapping at the address instead of adding it. */
  logoff: boolean;
}

/** What changed, in order, for whoever keeps a copy (the store). */
export type IdentityChange = { op: 'set'; identity: Identity } | { op: 'delete'; address: string };

const SWEEP_MS = 60_000;

/**
 * Keeps the identity index: applies RADIUS accounting (Start/Interim-Update add or refresh, Stop
 * removes, Accounting-On/Off clears the NAS's sessions) and feed mappings, each batch in one
 * synchronous step on the DNS thread, and sweeps out what has expired. Lookups go straight to
 * `index` from the client stage.
 */
export class IdentityService {
  readonly index = new IdentityIndex();
  /** Called with every batch of changes. */
  onChange: ((changes: IdentityChange[]) => void) | null = null;
  /** Mappings by source, for the metrics. */
  readonly counts = { radius: 0, feed: 0 };
  /** "nas\0session" → address keys, so a Stop without an address finds its mappings. */
  private readonly sessions = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private settings: IdentitySettings,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  configure(settings: IdentitySettings): void {
    this.settings = settings;
  }

  /** Starts the periodic sweep of expired mappings. */
  start(): void {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Applies a batch of verified accounting records. */
  applyAccounting(records: readonly AccountingRecord[]): void {
    const changes: IdentityChange[] = [];
    const now = this.now();
    for (const r of records) {
      if (r.status === STATUS.START || r.status === STATUS.INTERIM_UPDATE) {
        if (r.user === null) continue; // nobody to name
        const group = this.chooseGroup(r.groups);
        for (const text of r.addresses) {
          const key = parseAddressKey(text);
          const old = this.index.get(key);
          this.put(
            key,
            {
              address: key.key,
              user: r.user,
              group,
              mac: r.mac,
              session: r.session,
              source: 'radius',
              reporter: r.nas,
              since: old && old.user === r.user && old.expires > now ? old.since : now,
              expires: now + this.settings.defaultTtlMs,
            },
            changes,
          );
        }
      } else if (r.status === STATUS.STOP) {
        const keys = new Set(r.addresses);
        if (r.session !== null) for (const k of this.sessions.get(`${r.nas}\0${r.session}`) ?? []) keys.add(k);
        for (const text of keys) {
          const key = parseAddressKey(text);
          const old = this.index.get(key);
          if (!old) continue;
          // Only this session's own mapping: a late Stop must not end a newer session at a reused address.
          const same = r.session !== null && old.session !== null ? old.session === r.session : old.user === r.user;
          if (same) this.remove(key, changes);
        }
      } else if (r.status === STATUS.ACCOUNTING_ON || r.status === STATUS.ACCOUNTING_OFF) {
        // The NAS restarted or is going down: every session it reported has ended (RFC 2866 §5.1).
        this.removeWhere((id) => id.source === 'radius' && id.reporter === r.nas, changes);
        this.log.info(
          { nas: r.nas, status: r.status === STATUS.ACCOUNTING_ON ? 'Accounting-On' : 'Accounting-Off' },
          'identity: NAS cleared its sessions',
        );
      }
    }
    this.emit(changes);
  }

  /** Applies a batch of feed mappings from `reporter` (the caller's address). */
  applyFeed(items: readonly FeedItem[], reporter: string): void {
    const changes: IdentityChange[] = [];
    const now = this.now();
    for (const it of items) {
      const old = this.index.get(it.key);
      if (it.logoff) {
        if (old && old.user === it.user) this.remove(it.key, changes);
        continue;
      }
      this.put(
        it.key,
        {
          address: it.key.key,
          user: it.user,
          group: it.group,
          mac: old && old.user === it.user ? old.mac : null,
          session: null,
          source: 'feed',
          reporter,
          since: old && old.user === it.user && old.expires > now ? old.since : now,
          expires: now + (it.ttlMs ?? this.settings.defaultTtlMs),
        },
        changes,
      );
    }
    this.emit(changes);
  }

  /**
   * Puts back mappings kept in the store (after a restart): lapsed ones are skipped, and so is an
   * address that already has a mapping (anything learnt since start is newer). Returns how many.
   */
  restore(identities: readonly Identity[]): number {
    const now = this.now();
    let n = 0;
    for (const id of identities) {
      const key = parseAddressKey(id.address);
      if (id.expires <= now || this.index.get(key)) continue;
      this.put(key, id, null);
      n++;
    }
    return n;
  }

  /** Removes expired mappings; returns how many. */
  sweep(): number {
    const now = this.now();
    const changes: IdentityChange[] = [];
    this.removeWhere((id) => id.expires <= now, changes);
    this.emit(changes);
    return changes.length;
  }

  /** The live mappings, newest first. */
  list(): Identity[] {
    const now = this.now();
    return [...this.index.entries()].filter((id) => id.expires > now).sort((a, b) => b.since - a.since);
  }

  /** The first reported value that names a configured group, else the first value, else null. */
  private chooseGroup(values: readonly string[]): string | null {
    return values.find((v) => this.settings.groups.has(v)) ?? values[0] ?? null;
  }

  private put(key: AddressKey, id: Identity, changes: IdentityChange[] | null): void {
    const old = this.index.get(key);
    if (old) this.forget(old);
    this.index.set(key, id);
    this.counts[id.source]++;
    if (id.session !== null && id.source === 'radius') {
      const s = `${id.reporter}\0${id.session}`;
      let keys = this.sessions.get(s);
      if (!keys) this.sessions.set(s, (keys = new Set()));
      keys.add(id.address);
    }
    changes?.push({ op: 'set', identity: id });
  }

  private remove(key: AddressKey, changes: IdentityChange[]): void {
    const old = this.index.delete(key);
    if (!old) return;
    this.forget(old);
    changes.push({ op: 'delete', address: old.address });
  }

  private removeWhere(drop: (id: Identity) => boolean, changes: IdentityChange[]): void {
    for (const id of this.index.removeWhere(drop)) {
      this.forget(id);
      changes.push({ op: 'delete', address: id.address });
    }
  }

  /** Drops an identity that left the index from the counts and the session index. */
  private forget(id: Identity): void {
    this.counts[id.source]--;
    if (id.session === null || id.source !== 'radius') return;
    const s = `${id.reporter}\0${id.session}`;
    const keys = this.sessions.get(s);
    keys?.delete(id.address);
    if (keys?.size === 0) this.sessions.delete(s);
  }

  private emit(changes: IdentityChange[]): void {
    if (changes.length > 0) this.onChange?.(changes);
  }
}
