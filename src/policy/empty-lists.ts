import type { CategoryReport } from './compile.js';
import type { CategoryInfo } from './categories.js';

/**
 * Warnings for categories that block nothing: no entries at all. A locked category (e.g. illegal
 * content, shipped empty for the school to fill from its IWF/CTIRU supplier) gets a louder one.
 */
export function emptyListWarnings(reports: readonly CategoryReport[], infos: readonly CategoryInfo[]): string[] {
  const locked = new Set(infos.filter((i) => i.locked && i.signal === null).map((i) => i.name));
  return reports
    .filter((r) => r.entries === 0)
    .map((r) =>
      locked.has(r.category)
        ? `${r.category} is locked but its lists are empty, so it blocks nothing: fill ${r.files.join(', ') || 'its lists'} (e.g. from the school's IWF/CTIRU supplier)`
        : `${r.category} has no entries, so it blocks nothing (${r.files.join(', ') || 'no list files'})`,
    );
}
