/** Architecture: each database driver is imported by its own backend folder of src/storage/ only. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/daemon-process.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

const DRIVERS: Record<string, string> = { 'better-sqlite3': 'src/storage/sqlite/', postgres: 'src/storage/postgres/' };

test('a database driver is imported only inside its backend folder', () => {
  const found: Record<string, string[]> = {};
  for (const file of sources(path.join(ROOT, 'src'))) {
    const rel = path.relative(ROOT, file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1] ?? m[2];
      if (spec in DRIVERS) (found[spec] ??= []).push(rel);
    }
  }
  for (const [driver, folder] of Object.entries(DRIVERS)) {
    assert.ok((found[driver] ?? []).length > 0, `${driver} is imported somewhere (the check sees imports)`);
    assert.equal(
      (found[driver] ?? []).filter((f) => !f.startsWith(folder)),
      [],
      `${driver} outside ${folder}`,
    );
  }
});

test.run();
