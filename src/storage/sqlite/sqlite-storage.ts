import type { Storage, StorageAccess, StorageLocation } from '../storage.js';
import { SqliteAccounts } from './accounts.js';
import { DatabaseFile } from './database-file.js';
import { EVIDENCE_MIGRATIONS } from './evidence-schema.js';
import { SqliteEvidenceWriter } from './evidence-writer.js';
import { SqliteExceptions } from './exceptions.js';
import { SqliteIdentities } from './identities.js';
import { SqliteRequests } from './requests.js';
import { SqliteReview } from './review.js';
import { SqliteSignalReviews } from './signal-reviews.js';
import { SqliteAlertState } from './alert-state.js';

/**
 * The embedded store: one SQLite file for the evidence (blocked attempts, signals, access log,
 * exceptions, the daemon's heartbeat), each file opened on first use.
 */
export class SqliteStorage implements Storage {
  readonly evidence: SqliteEvidenceWriter;
  readonly review: SqliteReview;
  readonly exceptions: SqliteExceptions;
  readonly identities: SqliteIdentities;
  readonly requests: SqliteRequests;
  readonly signalReviews: SqliteSignalReviews;
  readonly alertState: SqliteAlertState;
  readonly accounts: SqliteAccounts;
  private readonly evidenceFile: DatabaseFile;

  constructor(location: StorageLocation, access: StorageAccess) {
    this.evidenceFile = new DatabaseFile({
      file: location.evidencePath,
      access,
      migrations: EVIDENCE_MIGRATIONS,
      mode: 0o640,
      label: 'database',
      maxSizeMb: location.maxSizeMb,
    });
    this.evidence = new SqliteEvidenceWriter(this.evidenceFile);
    this.review = new SqliteReview(this.evidenceFile);
    this.exceptions = new SqliteExceptions(this.evidenceFile);
    this.identities = new SqliteIdentities(this.evidenceFile);
    this.requests = new SqliteRequests(this.evidenceFile, this.exceptions);
    this.signalReviews = new SqliteSignalReviews(this.evidenceFile);
    this.alertState = new SqliteAlertState(this.evidenceFile);
    this.accounts = new SqliteAccounts(this.evidenceFile);
  }

  async open(): Promise<void> {
    this.evidenceFile.connection();
  }

  async close(): Promise<void> {
    this.evidenceFile.close();
  }
}
