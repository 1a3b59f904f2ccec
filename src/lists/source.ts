import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import { isListUrl } from '../config/lists-schema.js';
import { parseDuration } from '../time/duration.js';
import { readStoredCopy, type SubscriptionState } from './state-store.js';

export { isListUrl };

/** What reading one list source gave: its text, or why there is none. */
export interface SourceText {
  text: string;
  /** null when read; an errno code or a sentence otherwise. */
  error: string | null;
  /** For a URL: the state of its stored copy (null when it was never fetched). */
  state?: SubscriptionState | null;
}

/**
 * Reads a category's list source: a file, or for an https:// URL its last good copy from the state
 * directory (the daemon fetches it; the policy is compiled from what is stored, never mid-download).
 */
export async function readListSource(source: string, stateDir: string): Promise<SourceText> {
  if (isListUrl(source)) {
    const stored = await readStoredCopy(stateDir, source).catch(() => null);
    if (!stored) return { text: '', error: 'not fetched yet (no stored copy)', state: null };
    return { text: stored.text, error: null, state: stored.state };
  }
  return readFile(source, 'utf8').then(
    (text) => ({ text, error: null }),
    (e: NodeJS.ErrnoException) => ({ text: '', error: e.code ?? e.message }),
  );
}

/** What reading one list source gave, as bytes (UTF-8): for the daemon's load (see forEachListEntryBytes). */
export interface SourceBytes {
  bytes: Buffer;
  /** null when read; an errno code or a sentence otherwise. */
  error: string | null;
  /** For a URL: the state of its stored copy (null when it was never fetched). */
  state?: SubscriptionState | null;
}

/** `readListSource` as bytes: a file is read without decoding it to one large string. */
export async function readListSourceBytes(source: string, stateDir: string): Promise<SourceBytes> {
  if (isListUrl(source)) {
    const { text, error, state } = await readListSource(source, stateDir);
    return { bytes: Buffer.from(text, 'utf8'), error, state };
  }
  return readFile(source).then(
    (bytes) => ({ bytes, error: null }),
    (e: NodeJS.ErrnoException) => ({ bytes: Buffer.alloc(0), error: e.code ?? e.message }),
  );
}

/** One subscribed URL, the categories that list it and how often it is fetched. */
export interface SubscriptionSource {
  url: string;
  categories: string[];
  /** The shortest `refresh` of those categories, in ms. */
  refreshMs: number;
}

/** Every URL in the config's categories (one entry per URL, whichever categories share it). */
export function subscriptionSources(loaded: LoadedConfig): SubscriptionSource[] {
  const byUrl = new Map<string, SubscriptionSource>();
  for (const [category, c] of Object.entries(loaded.config.categories)) {
    const refreshMs = parseDuration(c.refresh);
    for (const url of c.lists.filter(isListUrl)) {
      const s = byUrl.get(url);
      if (!s) byUrl.set(url, { url, categories: [category], refreshMs });
      else {
        s.categories.push(category);
        s.refreshMs = Math.min(s.refreshMs, refreshMs);
      }
    }
  }
  return [...byUrl.values()];
}

/** A URL as shown in logs and tables: any user:password in it replaced by "***". */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}
