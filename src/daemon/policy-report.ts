import type { Logger } from 'pino';
import { formatHostPort } from '../config/host-port.js';
import { lastGoodPath, saveLastGood } from '../config/last-good.js';
import type { LoadedConfig } from '../config/load.js';
import { displayUrl, isListUrl } from '../lists/source.js';
import type { DaemonMetrics, SeriesLabels } from '../metrics/daemon-metrics.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { SIGNAL_KIND_NAMES } from '../signals/kinds.js';
import { formatDuration } from '../time/duration.js';

/** Logs what each category's lists gave (entries, unreadable files, skipped lines) and sets the list metrics. */
export function reportLists(compiled: CompiledPolicy, log: Logger, metrics: Pick<DaemonMetrics, 'onLists'>): void {
  metrics.onLists(compiled.reports);
  for (const r of compiled.reports) {
    for (const u of r.unreadable) {
      if (isListUrl(u.file)) continue; // subscriptions report their own state (below)
      log.error({ category: r.category, file: u.file, error: u.error }, 'list unreadable: keeping its previous entries');
    }
    for (const [url, state] of r.subscriptions) {
      if (!state?.body)
        log.warn({ category: r.category, url: displayUrl(url) }, 'subscribed list not fetched yet: not enforced until it is');
      else {
        const age = state.fetched_at === null ? 'unknown' : formatDuration(Date.now() - state.fetched_at);
        log.info(
          { category: r.category, url: displayUrl(url), entries: state.entries, copy_age: age },
          'subscribed list copy loaded',
        );
      }
    }
    for (const p of r.problems.slice(0, 20)) {
      log.warn({ category: r.category, at: `${p.file}:${p.line}`, line: p.text, reason: p.reason }, 'list line skipped');
    }
    if (r.problems.length > 20) log.warn({ category: r.category, more: r.problems.length - 20 }, 'more list lines skipped');
    log.info({ category: r.category, entries: r.entries }, 'list loaded');
  }
}

/**
 * Keeps the config just put in service beside the database, for the CLI to fall back to after a
 * bad edit (config/last-good.ts). A failure is logged, never fatal.
 */
export function keepLastGood(loaded: LoadedConfig, log: Logger): void {
  saveLastGood(loaded).catch((e: Error) =>
    log.warn(
      { error: e.message, file: lastGoodPath(loaded.databasePath) },
      'cannot keep a copy of the config beside the database',
    ),
  );
}

/** The label values the config can produce, for the metrics' series that exist from the start. */
export function seriesLabels(loaded: LoadedConfig, compiled: CompiledPolicy): SeriesLabels {
  return {
    groups: [...compiled.policy.groups.keys()],
    categories: compiled.policy.categories,
    upstreams: loaded.upstreams.map((u) => u.name),
    signalKinds: SIGNAL_KIND_NAMES,
  };
}
