import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import type { ListProblem } from './list-parser.js';
import { fetchList, FetchError, type FetchSettings } from './http-fetch.js';
import { checkListBody, listKeys } from './sanity.js';
import { displayUrl } from './source.js';
import { count } from '../text/plural.js';
import {
  emptyState,
  readStoredCopy,
  readState,
  saveCopy,
  saveState,
  textSha,
  type FetchResult,
  type SubscriptionState,
} from './state-store.js';

/** "1 entry", "1204 entries". */
const entries = (n: number) => count(n, 'entry', 'entries');

/** Everything an update needs besides the URL. */
export interface UpdateSettings extends FetchSettings {
  stateDir: string;
  /** A new copy with more than this fraction fewer entries is held back (0.5 = half). */
  maxShrink: number;
}

/** What one update did. Only `updated` changes what the filter enforces. */
export interface UpdateOutcome {
  url: string;
  result: FetchResult;
  /** Entries in the copy in use after the update. */
  entries: number;
  /** Entries added and removed compared with the previous copy (0 unless updated, or held back). */
  added: number;
  removed: number;
  /** The error, refusal or hold-back reason; null when a copy was confirmed or taken. */
  error: string | null;
  /** Bad lines of the new copy, as URL:line (skipped, like a file's). */
  problems: ListProblem[];
  state: SubscriptionState;
}

/** The update settings from a loaded config (reads `subscriptions.tls_ca`). */
export async function updateSettings(loaded: LoadedConfig): Promise<UpdateSettings> {
  const s = loaded.config.subscriptions;
  return {
    stateDir: loaded.listStateDir,
    maxBytes: Math.round(s.max_list_mb * 1_048_576),
    timeoutMs: s.timeout_ms,
    maxShrink: s.max_shrink,
    ca: loaded.subscriptionCa ? await readFile(loaded.subscriptionCa, 'utf8') : null,
  };
}

/**
 * Fetches `url` and, if the new copy passes, stores it as the last good copy. Never worse than
 * before: a failed fetch, a refused body or a big shrink leave the last good copy in place (and say
 * why in the state). `force` fetches unconditionally and accepts a shrink.
 */
export async function updateSubscription(
  url: string,
  settings: UpdateSettings,
  opts: { force?: boolean; now?: () => number } = {},
): Promise<UpdateOutcome> {
  const now = opts.now ?? Date.now;
  const stored = await readStoredCopy(settings.stateDir, url);
  const prev = stored?.state ?? (await readState(settings.stateDir, url)) ?? emptyState(url);
  const conditional = stored && !opts.force ? { etag: prev.etag, lastModified: prev.last_modified } : {};
  const done = async (result: FetchResult, state: SubscriptionState, extra: Partial<UpdateOutcome> = {}) => {
    await saveState(settings.stateDir, state);
    return { url, result, entries: state.entries, added: 0, removed: 0, error: state.last_error, problems: [], state, ...extra };
  };
  let fetched;
  try {
    fetched = await fetchList(url, settings, conditional);
  } catch (e) {
    const result = e instanceof FetchError && e.timeout ? 'timeout' : 'error';
    return done(result, { ...prev, checked_at: now(), last_result: result, last_error: (e as Error).message });
  }
  const at = now();
  if (fetched.status === 'not-modified') {
    return done('not_modified', { ...prev, fetched_at: at, checked_at: at, last_result: 'not_modified', last_error: null });
  }
  const validators = { etag: fetched.etag, last_modified: fetched.lastModified };
  const checked = checkListBody(fetched.text, url, fetched.contentType);
  if (!checked.ok) {
    return done('refused', { ...prev, checked_at: at, last_result: 'refused', last_error: `refused: ${checked.reason}` });
  }
  if (stored && textSha(fetched.text) === prev.sha256) {
    return done('unchanged', {
      ...prev,
      ...validators,
      fetched_at: at,
      checked_at: at,
      last_result: 'unchanged',
      last_error: null,
    });
  }
  const diff = stored ? countDiff(listKeys(stored.text, url), checked.keys) : { added: checked.keys.size, removed: 0 };
  if (stored && !opts.force && checked.entries < prev.entries * (1 - settings.maxShrink)) {
    const pct = Math.round((1 - checked.entries / prev.entries) * 100);
    // The validators stay the old copy's, so the next fetch gets the new copy again and re-checks it.
    const reason = `held back: the new copy has ${entries(checked.entries)}, ${pct}% fewer than the last good copy's ${prev.entries} (more than ${Math.round(settings.maxShrink * 100)}%); run "webfilter lists update --force" to take it`;
    return done('held_back', { ...prev, checked_at: at, last_result: 'held_back', last_error: reason }, diff);
  }
  const state = await saveCopy(
    settings.stateDir,
    {
      ...prev,
      ...validators,
      entries: checked.entries,
      fetched_at: at,
      changed_at: at,
      checked_at: at,
      last_result: 'updated',
      last_error: null,
    },
    fetched.text,
  );
  return { url, result: 'updated', entries: state.entries, ...diff, error: null, problems: checked.problems, state };
}

function countDiff(before: Set<string>, after: Set<string>): { added: number; removed: number } {
  let added = 0;
  for (const k of after) if (!before.delete(k)) added++;
  return { added, removed: before.size };
}

/** One line for logs and the CLI: "https://… +12 −3 (1,204 entries)" or the reason nothing changed. */
export function describeOutcome(o: UpdateOutcome): string {
  const u = displayUrl(o.url);
  switch (o.result) {
    case 'updated':
      return `${u}: updated, +${o.added} −${o.removed} (${entries(o.entries)})`;
    case 'unchanged':
    case 'not_modified':
      return `${u}: no change (${entries(o.entries)}${o.result === 'not_modified' ? ', 304 Not Modified' : ''})`;
    case 'held_back':
      return `${u}: ${o.error} (+${o.added} −${o.removed})`;
    default: {
      const kept = o.state.body ? `keeping the last good copy (${entries(o.entries)})` : 'no copy stored yet';
      return `${u}: ${o.result === 'refused' ? '' : 'fetch failed: '}${o.error}; ${kept}`;
    }
  }
}
