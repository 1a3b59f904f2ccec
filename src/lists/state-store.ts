import { createHash } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The last good copy of each subscribed list and what is known about fetching it, kept as files in
 * the state directory (`lists/` beside the database) so that a restart without internet still
 * enforces it. Per URL: `KEY.json` (this state) and `KEY-SHA.txt` (the copy it names). Each is
 * written to a temporary name and renamed, so a reader sees the old state or the new, never half.
 */

/** The outcome of one fetch, as counted in `webfilter_list_fetch_total{result}`. */
export type FetchResult = 'updated' | 'unchanged' | 'not_modified' | 'held_back' | 'refused' | 'error' | 'timeout';
export const FETCH_RESULTS: readonly FetchResult[] = [
  'updated',
  'unchanged',
  'not_modified',
  'held_back',
  'refused',
  'error',
  'timeout',
];

export interface SubscriptionState {
  url: string;
  /** File name of the last good copy in the state directory, or null when none was ever accepted. */
  body: string | null;
  sha256: string | null;
  /** Entries in the last good copy (the list parser's count). */
  entries: number;
  bytes: number;
  /** Validators of the last good copy, sent back as If-None-Match / If-Modified-Since. */
  etag: string | null;
  last_modified: string | null;
  /** Epoch ms the server last confirmed the copy in use (200 accepted, or 304): the copy's age counts from here. */
  fetched_at: number | null;
  /** Epoch ms the copy in use was first stored. */
  changed_at: number | null;
  /** Epoch ms of the last attempt, whatever its result. */
  checked_at: number | null;
  last_result: FetchResult | null;
  /** Why the last attempt did not give a new copy (error, refusal, held back), or null. */
  last_error: string | null;
}

/** The file name stem for a URL: readable host, then a hash of the whole URL. */
export function stateKey(url: string): string {
  let host = 'list';
  try {
    host = new URL(url).hostname.replace(/[^a-z0-9.-]/gi, '_') || host;
  } catch {
    // keep "list"
  }
  return `${host}-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

export function emptyState(url: string): SubscriptionState {
  return {
    url,
    body: null,
    sha256: null,
    entries: 0,
    bytes: 0,
    etag: null,
    last_modified: null,
    fetched_at: null,
    changed_at: null,
    checked_at: null,
    last_result: null,
    last_error: null,
  };
}

/** The stored state of `url`, or null when it was never fetched (or its state file is unreadable). */
export async function readState(dir: string, url: string): Promise<SubscriptionState | null> {
  try {
    const s = JSON.parse(await readFile(path.join(dir, `${stateKey(url)}.json`), 'utf8')) as SubscriptionState;
    return s.url === url ? { ...emptyState(url), ...s } : null;
  } catch {
    return null;
  }
}

/** The last good copy of `url` and its state, or null when there is none. */
export async function readStoredCopy(dir: string, url: string): Promise<{ text: string; state: SubscriptionState } | null> {
  // A concurrent writer may replace the copy between reading the state and the body: read again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await readState(dir, url);
    if (!state?.body) return null;
    try {
      return { text: await readFile(path.join(dir, state.body), 'utf8'), state };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return null;
}

/** Stores a new last good copy and the state naming it (the copy first, so the state never names a missing file). */
export async function saveCopy(dir: string, state: SubscriptionState, text: string): Promise<SubscriptionState> {
  await ensureDir(dir);
  const sha = createHash('sha256').update(text).digest('hex');
  const body = `${stateKey(state.url)}-${sha.slice(0, 16)}.txt`;
  await writeAtomic(dir, body, text);
  const next = { ...state, body, sha256: sha, bytes: Buffer.byteLength(text) };
  await saveState(dir, next);
  await removeOldCopies(dir, state.url, body);
  return next;
}

/** Stores the state alone (after a 304, a failure, a refusal or a held-back copy). */
export async function saveState(dir: string, state: SubscriptionState): Promise<void> {
  await ensureDir(dir);
  await writeAtomic(dir, `${stateKey(state.url)}.json`, JSON.stringify(state, null, 2) + '\n');
}

/** SHA-256 of a list text, as stored in the state. */
export function textSha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function ensureDir(dir: string): Promise<void> {
  try {
    await stat(dir);
  } catch {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await ownLikeParent(dir);
  }
}

/**
 * Writes `name` in `dir` through a temporary file and a rename. Run as root (`sudo webfilter lists
 * update`), the file is given to the directory's owner, so the daemon's user can replace it later.
 */
async function writeAtomic(dir: string, name: string, data: string): Promise<void> {
  const tmp = path.join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(tmp, data, { mode: 0o640 });
  await ownLikeParent(tmp);
  await rename(tmp, path.join(dir, name));
}

async function ownLikeParent(file: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const parent = await stat(path.dirname(file));
  await chown(file, parent.uid, parent.gid);
}

/**
 * Removes this URL's copies other than `keep`. A copy written in the last minute is left alone: it
 * may be another process's (the daemon's and the CLI's fetches can overlap), and the next write tidies it.
 */
async function removeOldCopies(dir: string, url: string, keep: string): Promise<void> {
  const prefix = `${stateKey(url)}-`;
  const current = (await readState(dir, url))?.body;
  for (const f of await readdir(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.txt') || f === keep || f === current) continue;
    const s = await stat(path.join(dir, f)).catch(() => null);
    if (s && Date.now() - s.mtimeMs > 60_000) await unlink(path.join(dir, f)).catch(() => {});
  }
}
