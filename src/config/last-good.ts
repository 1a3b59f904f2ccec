import { readFileSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { LoadedConfig } from './load.js';
import { databaseSchema } from './evidence-schema.js';

/**
 * The last config the daemon loaded, kept beside its database, so that after a bad edit (which a
 * reload keeps out) the read-only commands and `status` still work: they fall back to it with a
 * warning naming the problems. Written by the daemon at start and after every accepted reload.
 */

/** "/var/lib/webfilter/webfilter.db" → "/var/lib/webfilter/webfilter.last-good-config.json". */
export function lastGoodPath(databasePath: string): string {
  const { dir, name } = path.parse(databasePath);
  return path.join(dir, `${name}.last-good-config.json`);
}

interface Saved {
  saved_at: string;
  /** The loaded config, with its Map as entries. */
  loaded: Omit<LoadedConfig, 'categoryFiles'> & { categoryFiles: [string, string[]][] };
}

/** Writes the copy atomically (a reader never sees half of it), readable by the review group (0640). */
export async function saveLastGood(loaded: LoadedConfig, now = Date.now()): Promise<void> {
  const file = lastGoodPath(loaded.databasePath);
  const saved: Saved = {
    saved_at: new Date(now).toISOString(),
    loaded: { ...loaded, categoryFiles: [...loaded.categoryFiles] },
  };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(saved), { mode: 0o640 });
  await chmod(tmp, 0o640);
  await rename(tmp, file);
}

/**
 * The copy the daemon saved for `configFile`, or null when there is none (or it is of another
 * config file). The database's place is read from the broken file as far as its YAML allows, else
 * the default place.
 */
export function loadLastGood(configFile: string): { loaded: LoadedConfig; savedAt: number } | null {
  const abs = path.resolve(configFile);
  let file: string;
  try {
    file = lastGoodPath(databasePathOf(abs));
  } catch {
    return null;
  }
  let saved: Saved;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Saved;
  } catch {
    return null;
  }
  if (saved?.loaded?.file !== abs) return null;
  return {
    loaded: { ...saved.loaded, categoryFiles: new Map(saved.loaded.categoryFiles) },
    savedAt: Date.parse(saved.saved_at),
  };
}

/** `database.path` of a config file that may not validate (its YAML may still say where the database is). */
function databasePathOf(configFile: string): string {
  let written: unknown;
  try {
    written = (parseDocument(readFileSync(configFile, 'utf8')).toJS() as { database?: { path?: unknown } } | null)?.database
      ?.path;
  } catch {
    written = undefined;
  }
  const p = typeof written === 'string' && written ? written : databaseSchema.parse({}).path;
  return path.resolve(path.dirname(configFile), p);
}
