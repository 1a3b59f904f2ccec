import { Counter, Gauge, type Registry } from 'prom-client';
import { FETCH_RESULTS, type FetchResult } from '../lists/state-store.js';
import type { CategoryListStatus } from '../lists/subscriptions.js';

/**
 * Metrics of the list subscriptions, per category (bounded: categories come from config). The age is
 * read at scrape time, so it grows while fetches fail; the alert compares it with the refresh.
 */
export class ListMetrics {
  private readonly fetches: Counter<'category' | 'result'>;

  constructor(registry: Registry, status: () => CategoryListStatus[]) {
    const registers = [registry];
    new Gauge({
      name: 'webfilter_list_entries',
      help: 'Entries in the last good copies of the category’s subscribed lists (URLs)',
      labelNames: ['category'],
      registers,
      collect() {
        this.reset();
        for (const s of status()) this.labels(s.category).set(s.entries);
      },
    });
    new Gauge({
      name: 'webfilter_list_age_seconds',
      help: 'Age of the category’s oldest subscribed copy: time since its server last confirmed it (+Inf: never fetched)',
      labelNames: ['category'],
      registers,
      collect() {
        this.reset();
        for (const s of status()) this.labels(s.category).set(s.ageSeconds);
      },
    });
    new Gauge({
      name: 'webfilter_list_refresh_seconds',
      help: 'How often the category’s subscribed lists are fetched (its refresh)',
      labelNames: ['category'],
      registers,
      collect() {
        this.reset();
        for (const s of status()) this.labels(s.category).set(s.refreshSeconds);
      },
    });
    this.fetches = new Counter({
      name: 'webfilter_list_fetch_total',
      help: 'Fetches of subscribed lists, by category and result (updated, unchanged, not_modified, held_back, refused, error, timeout)',
      labelNames: ['category', 'result'],
      registers,
      // Every result's series exists at 0 from the first scrape, so increase() sees the first one
      // (a held-back copy at the first fetch after a restart must still raise WebfilterListHeldBack).
      collect() {
        for (const s of status()) for (const r of FETCH_RESULTS) this.labels(s.category, r);
      },
    });
  }

  /** Counts one fetch for each category that lists the URL. */
  countFetch = (categories: string[], result: FetchResult): void => {
    for (const c of categories) this.fetches.labels(c, result).inc();
  };
}
