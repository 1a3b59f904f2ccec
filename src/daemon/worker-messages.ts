import type { Identity } from '../identity/identity-index.js';
import type { IdentityChange } from '../identity/identity-service.js';
import type { QueryStatsSnapshot } from '../observe/query-stats.js';
import type { UpstreamStatsSnapshot } from '../observe/upstream-stats.js';
import type { ExceptionRecord } from '../storage/exceptions.js';

/**
 * What one DNS worker process (`server.workers` > 1) has counted since it started: the primary sums
 * these over its workers (and over workers that have exited) for /metrics and the summary log.
 */
export interface WorkerCounts {
  queries: QueryStatsSnapshot;
  upstreams: UpstreamStatsSnapshot;
  cacheEntries: number;
  cacheHits: number;
  cacheMisses: number;
  rateLimited: number;
  /** Events dropped because the channel to the primary was full. */
  dropped: number;
  /** Queries received but not yet answered. */
  inFlight: number;
}

/**
 * Primary → worker, over the cluster IPC channel (advanced serialization: typed arrays and Maps go
 * as bytes, not JSON).
 */
export type ToWorker =
  /** Re-read config and lists (SIGHUP at the primary); answered by `done`. */
  | { t: 'reload'; id: number }
  /** Subscribed lists have new stored copies: recompile (answered by `done`). */
  | { t: 'lists'; id: number; urls: string[] }
  /** The exceptions in force changed (the primary's evidence writer reads the store). */
  | { t: 'exceptions'; records: ExceptionRecord[] }
  /** Every identity mapping the primary holds (at the worker's start, and after a restore). */
  | { t: 'identities'; all: Identity[] }
  /** Changes to the identity mappings, in order. */
  | { t: 'identity-changes'; changes: IdentityChange[] }
  /** Asks for the counts (answered by `counts`). */
  | { t: 'counts'; id: number }
  /** Stop taking queries, answer those in flight, hand over the last events, exit. */
  | { t: 'stop'; drainMs: number };

/** Worker → primary. */
export type FromWorker =
  | { t: 'listening'; addresses: string[] }
  /** A batch of encoded query events (event-codec.ts) for the evidence store. */
  | { t: 'events'; buffer: ArrayBuffer; count: number }
  | { t: 'done'; id: number; ok: boolean }
  | { t: 'counts'; id: number; counts: WorkerCounts }
  /** The last message before a stopping worker disconnects. */
  | { t: 'stopped'; counts: WorkerCounts };
