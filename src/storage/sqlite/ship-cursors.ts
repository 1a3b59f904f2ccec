import type { StorageAccess } from '../storage.js';
import { SHIP_TABLES, zeroCursors, type ShipCursorValues, type ShipCursors, type ShipTable } from '../shipping.js';
import type { DatabaseFile } from './database-file.js';
import { sharedCopyFile } from './shared-copy.js';

/**
 * The shipping cursors, in the file of the copy of the shared exceptions: that copy is of one shared
 * store, and when it is replaced by a store created anew the cursors start again with it. A cursor
 * moves only after PostgreSQL committed the rows up to it, so a crash in between ships them again
 * (harmless: the shared store's upserts are idempotent).
 */
export class SqliteShipCursors implements ShipCursors {
  private readonly file: DatabaseFile;

  constructor(
    path: string,
    private readonly access: StorageAccess,
  ) {
    this.file = sharedCopyFile(path, access);
  }

  values(): ShipCursorValues {
    const v = zeroCursors();
    // Read-only (webfilter status) before the daemon ever made the file: nothing shipped yet.
    if (this.access === 'read-only' && !this.file.exists()) return v;
    for (const r of this.file.prepare('SELECT tbl, value FROM ship_cursor').all() as { tbl: string; value: number }[])
      if ((SHIP_TABLES as readonly string[]).includes(r.tbl)) v[r.tbl as ShipTable] = r.value;
    return v;
  }

  advance(table: ShipTable, value: number): void {
    this.file
      .prepare(
        'INSERT INTO ship_cursor (tbl, value) VALUES (?, ?) ON CONFLICT (tbl) DO UPDATE SET value = max(value, excluded.value)',
      )
      .run(table, value);
  }

  close(): void {
    this.file.close();
  }
}
