import type { AlertStateRepository, ChannelState } from '../alert-state.js';
import type { DatabaseFile } from './database-file.js';

const DIGEST = 'digest';

const SQL = {
  reset: `INSERT INTO alert_state (key, updated_at) VALUES (?, ?)
          ON CONFLICT (key) DO UPDATE SET sent = 0, failed = 0, abandoned = 0, queued = 0, updated_at = excluded.updated_at`,
  forget: `DELETE FROM alert_state WHERE key <> '${DIGEST}' AND key NOT IN (SELECT value FROM json_each(?))`,
  sent: `UPDATE alert_state SET sent = sent + 1, last_sent = @at, queued = @queued, updated_at = @at WHERE key = @channel`,
  failed: `UPDATE alert_state SET failed = failed + 1, last_failed = @at, last_error = @error, queued = @queued, updated_at = @at
           WHERE key = @channel`,
  abandoned: `UPDATE alert_state SET abandoned = abandoned + 1, last_failed = @at, last_error = @error, queued = @queued,
              updated_at = @at WHERE key = @channel`,
  channels: `SELECT key AS channel, last_sent AS lastSent, last_failed AS lastFailed, last_error AS lastError, sent, failed,
             abandoned, queued, updated_at AS updatedAt FROM alert_state WHERE key <> '${DIGEST}' ORDER BY key`,
  digest: `SELECT last_sent FROM alert_state WHERE key = '${DIGEST}'`,
  setDigest: `INSERT INTO alert_state (key, last_sent, updated_at) VALUES ('${DIGEST}', ?, ?)
              ON CONFLICT (key) DO UPDATE SET last_sent = excluded.last_sent, updated_at = excluded.updated_at`,
};

/** The alerting's state in the SQLite file (table alert_state). */
export class SqliteAlertState implements AlertStateRepository {
  constructor(private readonly file: DatabaseFile) {}

  async reset(channels: string[], at: number): Promise<void> {
    this.file.transaction(() => {
      for (const c of channels) this.file.prepare(SQL.reset).run(c, at);
      this.file.prepare(SQL.forget).run(JSON.stringify(channels));
    });
  }

  async record(channel: string, result: 'sent' | 'failed' | 'abandoned', at: number, queued: number, error = ''): Promise<void> {
    this.file.prepare(SQL[result]).run({ channel, at, queued, error: error.slice(0, 500) });
  }

  async channels(): Promise<ChannelState[]> {
    return this.file.prepare(SQL.channels).all() as ChannelState[];
  }

  async lastDigestDay(): Promise<number | null> {
    return (this.file.prepare(SQL.digest).get() as { last_sent: number | null } | undefined)?.last_sent ?? null;
  }

  async setLastDigestDay(dayStart: number, at: number): Promise<void> {
    this.file.prepare(SQL.setDigest).run(dayStart, at);
  }
}
