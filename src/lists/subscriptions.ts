import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { parseDuration, formatDuration } from '../time/duration.js';
import { displayUrl, subscriptionSources, type SubscriptionSource } from './source.js';
import { readState, type FetchResult, type SubscriptionState } from './state-store.js';
import { describeOutcome, updateSettings, updateSubscription, type UpdateOutcome, type UpdateSettings } from './update.js';

/** A category's subscriptions at a glance, for metrics and alerts. */
export interface CategoryListStatus {
  category: string;
  /** Entries in the last good copies of its URLs. */
  entries: number;
  /** Age of its oldest copy (since the server last confirmed it), in seconds; Infinity when one was never fetched. */
  ageSeconds: number;
  refreshSeconds: number;
}

export interface SubscriptionDeps {
  log: Logger;
  /** A new copy was stored (by the daemon or by `webfilter lists update`): compile and swap the policy. */
  onCopyChanged: (urls: string[]) => void;
  /** Counts one fetch per category of its URL. */
  onFetch?: (categories: string[], result: FetchResult) => void;
  now?: () => number;
}

interface Entry {
  source: SubscriptionSource;
  state: SubscriptionState | null;
  timer: NodeJS.Timeout | null;
  running: Promise<UpdateOutcome> | null;
  /** Failed attempts in a row (the retry backs off). */
  failures: number;
}

/** First retry after a failure; doubles per failure, never beyond `refresh`. */
const RETRY_MS = 5 * 60_000;
/** Largest random delay added to a refresh, so schools sharing a list server do not all ask at once. */
const MAX_JITTER_MS = 15 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Keeps the config's subscribed lists current inside the daemon: fetches each URL when it is due
 * (at once when there is no stored copy; then every `refresh` plus jitter; after a failure sooner,
 * backing off), stores a new copy only when it passes (see update.ts), and asks the daemon to swap
 * in a new policy when a copy changed. It also watches the state directory, so a copy stored by
 * `webfilter lists update` takes effect without a reload. Fetching runs after privileges are dropped.
 */
export class Subscriptions {
  private readonly entries = new Map<string, Entry>();
  private refreshByCategory = new Map<string, number>();
  private settings: UpdateSettings | null = null;
  private watcher: FSWatcher | null = null;
  private watchedDir: string | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  /** The copy (sha256) each URL had when the daemon last compiled or asked to. */
  private readonly applied = new Map<string, string | null>();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly deps: SubscriptionDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Takes the (re)loaded config's URLs: new ones are scheduled, dropped ones forgotten. */
  async configure(loaded: LoadedConfig): Promise<void> {
    const log = this.deps.log;
    try {
      this.settings = await updateSettings(loaded);
    } catch (e) {
      log.error(
        { err: (e as Error).message },
        'list subscriptions: cannot read subscriptions.tls_ca; keeping the previous settings',
      );
    }
    const sources = subscriptionSources(loaded);
    this.refreshByCategory = new Map(
      Object.entries(loaded.config.categories)
        .filter(([, c]) => c.lists.some((l) => sources.some((s) => s.url === l)))
        .map(([name, c]) => [name, parseDuration(c.refresh)]),
    );
    const wanted = new Set(sources.map((s) => s.url));
    for (const [url, e] of this.entries) {
      if (wanted.has(url)) continue;
      if (e.timer) clearTimeout(e.timer);
      this.entries.delete(url);
      this.applied.delete(url);
    }
    for (const source of sources) {
      const old = this.entries.get(source.url);
      const state = await readState(loaded.listStateDir, source.url);
      const e: Entry = old ?? { source, state, timer: null, running: null, failures: 0 };
      e.source = source;
      e.state = state;
      if (!old) {
        this.entries.set(source.url, e);
        this.applied.set(source.url, state?.sha256 ?? null);
        this.announce(e);
      }
      this.schedule(e);
    }
    if (sources.length > 0) await this.watchDir(loaded.listStateDir);
  }

  /** Per category with URLs: entries, age of the oldest copy, refresh. */
  categoryStatus(): CategoryListStatus[] {
    const now = this.now();
    const out = new Map<string, CategoryListStatus>();
    for (const [category, refreshMs] of this.refreshByCategory) {
      out.set(category, { category, entries: 0, ageSeconds: 0, refreshSeconds: refreshMs / 1000 });
    }
    for (const e of this.entries.values()) {
      const age = e.state?.body && e.state.fetched_at !== null ? Math.max(0, now - e.state.fetched_at) / 1000 : Infinity;
      for (const c of e.source.categories) {
        const s = out.get(c);
        if (!s) continue;
        s.entries += e.state?.body ? e.state.entries : 0;
        s.ageSeconds = Math.max(s.ageSeconds, age);
      }
    }
    return [...out.values()];
  }

  /** Fetches one URL now (also what the timers call). Concurrent calls for one URL share one fetch. */
  updateNow(url: string, force = false): Promise<UpdateOutcome> {
    const e = this.entries.get(url);
    if (!e) return Promise.reject(new Error(`${displayUrl(url)} is not a subscribed list`));
    if (e.running) return e.running;
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    const run = this.fetch(e, force).finally(() => {
      e.running = null;
      if (!this.stopped && this.entries.get(url) === e) this.schedule(e);
    });
    e.running = run;
    return run;
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    this.watcher?.close();
    this.watcher = null;
  }

  private async fetch(e: Entry, force: boolean): Promise<UpdateOutcome> {
    const log = this.deps.log;
    const url = e.source.url;
    if (!this.settings) throw new Error('list subscriptions are not configured');
    const o = await updateSubscription(url, this.settings, { force, now: this.now });
    e.state = o.state;
    this.deps.onFetch?.(e.source.categories, o.result);
    const fields = { categories: e.source.categories, url: displayUrl(url), result: o.result, entries: o.entries };
    const ok = o.result === 'updated' || o.result === 'unchanged' || o.result === 'not_modified';
    e.failures = ok ? 0 : e.failures + 1;
    if (o.result === 'updated') {
      log.info({ ...fields, added: o.added, removed: o.removed }, `list subscription updated: ${describeOutcome(o)}`);
      this.applied.set(url, o.state.sha256);
      this.deps.onCopyChanged([url]);
    } else if (ok) {
      log.debug(fields, 'list subscription checked: no change');
    } else {
      const age = o.state.body && o.state.fetched_at !== null ? formatDuration(this.now() - o.state.fetched_at) : null;
      log.warn(
        { ...fields, error: o.error, copy_age: age ?? 'no copy yet' },
        o.state.body
          ? `list subscription: ${o.result === 'held_back' ? 'new copy held back' : 'fetch gave no new copy'}; the last good copy stays in force`
          : 'list subscription: fetch gave no copy, and there is none stored: the category is enforced without this list',
      );
    }
    return o;
  }

  private schedule(e: Entry): void {
    if (this.stopped || e.running) return;
    if (e.timer) clearTimeout(e.timer);
    const delay = nextFetchDelay(e.state, e.failures, e.source.refreshMs, this.now(), Math.random());
    e.timer = setTimeout(() => void this.updateNow(e.source.url).catch(() => {}), Math.min(delay, MAX_TIMER_MS));
    e.timer.unref();
  }

  private announce(e: Entry): void {
    const s = e.state;
    const fields = { categories: e.source.categories, url: displayUrl(e.source.url) };
    if (!s?.body) {
      this.deps.log.warn(fields, 'list subscription has no stored copy yet: fetching it now');
      return;
    }
    const ageMs = this.now() - (s.fetched_at ?? 0);
    const line = {
      ...fields,
      entries: s.entries,
      copy_age: formatDuration(ageMs),
      fetched_at: new Date(s.fetched_at ?? 0).toISOString(),
    };
    if (ageMs > e.source.refreshMs) this.deps.log.warn(line, 'list subscription: stored copy in force is older than its refresh');
    else this.deps.log.info(line, 'list subscription: stored copy in force');
  }

  /** Watches the state directory for copies stored by another process (`webfilter lists update`). */
  private async watchDir(dir: string): Promise<void> {
    if (this.watchedDir === dir || this.stopped) return;
    this.watcher?.close();
    await mkdir(dir, { recursive: true, mode: 0o750 }).catch(() => {});
    try {
      this.watcher = watch(dir, () => {
        if (this.rescanTimer) return;
        this.rescanTimer = setTimeout(() => void this.rescan(dir), 200);
        this.rescanTimer.unref();
      });
      this.watcher.unref();
      this.watchedDir = dir;
    } catch (e) {
      this.deps.log.warn(
        { dir, err: (e as Error).message },
        'cannot watch the list state directory: a `lists update` applies at the next reload',
      );
    }
  }

  private async rescan(dir: string): Promise<void> {
    this.rescanTimer = null;
    const changed: string[] = [];
    for (const [url, e] of this.entries) {
      if (e.running) continue; // its own result updates the state
      const state = await readState(dir, url);
      if (!state) continue;
      e.state = state;
      if (state.sha256 !== (this.applied.get(url) ?? null)) {
        this.applied.set(url, state.sha256);
        changed.push(url);
      }
    }
    if (changed.length > 0 && !this.stopped) {
      this.deps.log.info({ urls: changed.map(displayUrl) }, 'list subscription: a new copy was stored by another process');
      this.deps.onCopyChanged(changed);
    }
  }
}

/**
 * How long until a URL is fetched again: at once when there is no copy yet; `refresh` after the last
 * attempt when it went well; after a failure 5 min, doubling per failure in a row, never beyond
 * `refresh`. Plus jitter (`random` in [0, 1)) of up to 10% of the interval, at most 15 min.
 */
export function nextFetchDelay(
  state: SubscriptionState | null,
  failures: number,
  refreshMs: number,
  now: number,
  random: number,
): number {
  if (!state?.body && failures === 0) return 0;
  const interval = failures > 0 ? Math.min(refreshMs, RETRY_MS * 2 ** Math.min(failures - 1, 8)) : refreshMs;
  const jitter = random * Math.min(interval * 0.1, MAX_JITTER_MS);
  return Math.max(0, (state?.checked_at ?? now) + interval - now) + jitter;
}
