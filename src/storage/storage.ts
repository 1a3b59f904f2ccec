import type { SharedLocation } from './shared.js';
import type { AccountsRepository } from './accounts.js';
import type { EvidenceWriter } from './evidence.js';
import type { ExceptionsRepository } from './exceptions.js';
import type { IdentitiesRepository } from './identities.js';
import type { RequestsRepository } from './requests.js';
import type { ReviewRepository } from './review.js';
import type { SignalReviewsRepository } from './signal-reviews.js';
import type { AlertStateRepository } from './alert-state.js';
import type { SessionsRepository } from './sessions.js';
import type { SignInThrottle } from './sign-in-throttle.js';
import type { ReadScope, ScopedReads } from './read-scope.js';

/**
 * Everything webfilter stores, behind one repository per concern. All access is asynchronous: a
 * network database may sit behind it. One implementation per backend lives in its own folder
 * (`sqlite/`); nothing outside that folder knows the backend or speaks its SQL.
 */
export interface Storage {
  /** The evidence writer thread's side: batches, heartbeat, retention. */
  readonly evidence: EvidenceWriter;
  /**
   * This box's own evidence, unscoped: for the daemon itself (heartbeat, digest) and ICT's tools.
   * The review (console pages, review commands) reads through `reads` instead.
   */
  readonly review: ReviewRepository;
  readonly exceptions: ExceptionsRepository;
  /** The online safety officer's reviews of signals on this box (with their access-audit rows). */
  readonly signalReviews: SignalReviewsRepository;
  /**
   * The evidence as one reader may see it (issue 17): the shared store's rows of the reader's sites
   * when `shared` is set, this box's store otherwise (nothing when the scope excludes its site).
   */
  reads(rs: ReadScope): ScopedReads;
  /** The safeguarding alerts' delivery state and last digest. */
  readonly alertState: AlertStateRepository;
  /** Who is at which address (RADIUS accounting, the identity feed), kept across restarts. */
  readonly identities: IdentitiesRepository;
  /** Permission requests (a teacher asks, an approver decides), beside the exceptions they become. */
  readonly requests: RequestsRepository;
  /**
   * Console accounts and the access audit (readable by the service user only): the box's own file,
   * or the shared store's (the whole trust's accounts) when `shared` is set.
   */
  readonly accounts: AccountsRepository;
  /** Console sessions in the shared store (`shared`); absent on a single box, whose console keeps them in memory. */
  readonly sessions?: SessionsRepository;
  /**
   * Failed sign-ins counted for the whole trust in the shared store (`shared`): the console's and the
   * CLI's `--account` throttle. Absent on a single box, whose console counts in memory.
   */
  readonly signIns?: SignInThrottle;
  /**
   * Opens the evidence store now (for `write`: creating and upgrading it), so that a command can
   * say at once why it cannot; otherwise each repository opens what it needs on first use.
   */
  open(): Promise<void>;
  close(): Promise<void>;
}

/** Where the embedded store keeps its files (absolute paths). */
export interface StorageLocation {
  /** The evidence database (`database.path`): readable by the review group. */
  evidencePath: string;
  /**
   * Console accounts and the access audit, in a file of their own that only the service user reads
   * (the review group reads the evidence, never password hashes), so that nothing done to the
   * evidence (retention, a restored copy) touches the accounts. Never the evidence file itself.
   */
  accountsPath: string;
  /** `database.max_size_mb` (0 = no cap): past it, writes fail like on a full disk. */
  maxSizeMb?: number;
  /** This box's site (`site`): every row of its own store is of it; absent when not configured. */
  site?: string;
  /** Several filters share exceptions in PostgreSQL (`shared`); absent on a single box. */
  shared?: SharedLocation;
}

/**
 * `write`: the daemon and ICT's commands (creates, upgrades, writes); `read-only`: the review
 * commands, which need only read access to the files and never change them.
 */
export type StorageAccess = 'write' | 'read-only';

/** The store cannot be used as asked; the message says why, for people (and names the file). */
export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}
