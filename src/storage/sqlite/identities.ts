import type { IdentitiesRepository, IdentityRecord, IdentityWrite } from '../identities.js';
import type { DatabaseFile } from './database-file.js';

const SQL = {
  set: `INSERT INTO identities (address, user, grp, mac, session, source, reporter, since, expires)
        VALUES (@address, @user, @group, @mac, @session, @source, @reporter, @since, @expires)
        ON CONFLICT (address) DO UPDATE SET user = excluded.user, grp = excluded.grp, mac = excluded.mac,
          session = excluded.session, source = excluded.source, reporter = excluded.reporter,
          since = excluded.since, expires = excluded.expires`,
  delete: 'DELETE FROM identities WHERE address = ?',
  live: `SELECT address, user, grp AS "group", mac, session, source, reporter, since, expires
         FROM identities WHERE expires > ? ORDER BY since DESC`,
  purge: 'DELETE FROM identities WHERE expires <= ?',
};

/** The identity mappings in the evidence database (table `identities`). */
export class SqliteIdentities implements IdentitiesRepository {
  constructor(private readonly file: DatabaseFile) {}

  async apply(changes: readonly IdentityWrite[]): Promise<void> {
    const f = this.file;
    try {
      f.transaction(() => {
        for (const c of changes) {
          if (c.op === 'set') f.prepare(SQL.set).run(c.identity);
          else f.prepare(SQL.delete).run(c.address);
        }
      });
    } catch (e) {
      f.failed(e);
      throw e;
    }
  }

  async live(now: number): Promise<IdentityRecord[]> {
    return this.file.prepare(SQL.live).all(now) as IdentityRecord[];
  }

  async purge(now: number): Promise<number> {
    return this.file.prepare(SQL.purge).run(now).changes;
  }
}
