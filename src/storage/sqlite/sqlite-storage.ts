import path from 'node:path';
import { StorageError, type Storage, type StorageAccess, type StorageLocation } from '../storage.js';
import { SqliteAccounts } from './accounts.js';
import { accountsFile } from './accounts-schema.js';
import { DatabaseFile, type DatabaseFileOptions } from './database-file.js';
import { EVIDENCE_MIGRATIONS, type EvidenceContext } from './evidence-schema.js';
import { SqliteEvidenceWriter } from './evidence-writer.js';
import { SqliteEvidenceOutbox } from './evidence-outbox.js';
import { SqliteExceptions } from './exceptions.js';
import { SqliteIdentities } from './identities.js';
import { SqliteRequests } from './requests.js';
import { SqliteReview } from './review.js';
import { SqliteSignalReviews } from './signal-reviews.js';
import { SqliteAlertState } from './alert-state.js';
import { boxVisible, NO_REVIEW, NO_SIGNAL_REVIEWS, type ReadScope, type ScopedReads } from '../read-scope.js';

/**
 * The embedded store: one SQLite file for the evidence (blocked attempts, signals, access log,
 * exceptions and requests, identities, the daemon's heartbeat), readable by the review group, and
 * one beside it for the console accounts and the access audit, readable by the service user only
 * (accounts-schema.ts). Each file is opened on first use.
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
  /** The rows to ship to a shared store (read only when `shared` is set). */
  readonly outbox: SqliteEvidenceOutbox;
  private readonly evidenceFile: DatabaseFile;
  private readonly accountsFile: DatabaseFile;
  private readonly site: string | undefined;

  constructor(location: StorageLocation, access: StorageAccess) {
    if (path.resolve(location.accountsPath) === path.resolve(location.evidencePath))
      throw new StorageError(`the accounts need a file of their own, not the evidence file ${location.evidencePath}`);
    const evidence: DatabaseFileOptions<EvidenceContext> = {
      file: location.evidencePath,
      access,
      migrations: EVIDENCE_MIGRATIONS,
      context: { accountsPath: location.accountsPath },
      mode: 0o640,
      label: 'database',
      maxSizeMb: location.maxSizeMb,
    };
    this.evidenceFile = new DatabaseFile(evidence);
    this.evidence = new SqliteEvidenceWriter(this.evidenceFile);
    this.review = new SqliteReview(this.evidenceFile);
    this.exceptions = new SqliteExceptions(this.evidenceFile);
    this.identities = new SqliteIdentities(this.evidenceFile);
    this.requests = new SqliteRequests(this.evidenceFile, this.exceptions);
    this.signalReviews = new SqliteSignalReviews(this.evidenceFile);
    this.alertState = new SqliteAlertState(this.evidenceFile);
    this.accountsFile = accountsFile(location.accountsPath, access, this.evidenceFile);
    this.accounts = new SqliteAccounts(this.accountsFile, access);
    this.outbox = new SqliteEvidenceOutbox({ evidence: this.evidenceFile, accounts: this.accountsFile });
    this.site = location.site;
  }

  /** Every row of this file is this box's site's: all of them, or none when the read excludes the site. */
  reads(rs: ReadScope): ScopedReads {
    return boxVisible(rs, this.site)
      ? { review: this.review, signalReviews: this.signalReviews, trustWide: false }
      : { review: NO_REVIEW, signalReviews: NO_SIGNAL_REVIEWS, trustWide: false };
  }

  async open(): Promise<void> {
    this.evidenceFile.connection();
  }

  async close(): Promise<void> {
    this.evidenceFile.close();
    this.accountsFile.close();
  }
}
