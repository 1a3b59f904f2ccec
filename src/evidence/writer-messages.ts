/**
 * The messages between the daemon's main thread and its evidence writer thread (writer-worker.ts),
 * and what the thread is started with.
 */
import type { MessagePort } from 'node:worker_threads';
import type { StorageLocation } from '../storage/storage.js';
import type { PartHealth, Retention } from '../storage/evidence.js';
import type { ExceptionRecord } from '../storage/exceptions.js';
import type { IdentityRecord, IdentityWrite } from '../storage/identities.js';
import type { PermissionRequest } from '../storage/requests.js';
import type { CentralRetentionResult } from '../storage/shipping.js';
import type { DeviceConfig } from './devices.js';
import type { ProcessorConfig } from './processor.js';
import type { ShippingState } from './shipper.js';

export interface WriterInit {
  /** Where the store is, with `database.max_size_mb` (0 = no cap) as `maxSizeMb`. */
  storage: StorageLocation;
  processor: ProcessorConfig;
  devices: DeviceConfig;
  version: string;
  pid: number;
  startedAt: number;
}

/** Main → writer. */
export type ToWriter =
  /**
   * `buffers[i]` holds `counts[i]` events encoded by EventEncoder (transferred, not copied), in time
   * order: one batch, or several that waited, written in one transaction.
   */
  | { type: 'batch'; buffers: ArrayBuffer[]; counts: number[]; dropped: number; writeErrors: number }
  | { type: 'purge'; now: number; retention: Retention }
  | { type: 'configure'; processor: ProcessorConfig; devices: DeviceConfig }
  /** Changes to the identity mappings, to keep a copy across restarts. */
  | { type: 'identities'; changes: IdentityWrite[] }
  /** Where to send the signals that alert at once (a port to the alerting thread), or null: alerts off. */
  | { type: 'alerts'; port: MessagePort | null; immediate: string[] }
  /** The approvers were told of these pending permission requests (so they are not told again). */
  | { type: 'requests-announced'; ids: number[]; at: number }
  /** The optional parts' health changed: written with the heartbeat at once. */
  | { type: 'health'; components: Record<string, PartHealth> }
  | { type: 'close' };

/** Writer → main. */
export type FromWriter =
  | { type: 'written'; rows: number }
  | { type: 'signals'; signals: { grp: string; kind: string; count: number }[] }
  | { type: 'write-failed'; error: string; code: string }
  | { type: 'purged'; result: Record<string, number> }
  | { type: 'purge-failed'; error: string }
  | { type: 'exceptions'; records: ExceptionRecord[] }
  | { type: 'exceptions-failed'; error: string }
  /** The identity mappings kept from before (sent once, at start). */
  | { type: 'identities'; records: IdentityRecord[] }
  | { type: 'identities-failed'; error: string }
  /** Pending permission requests past their start, now recorded as expired. */
  | { type: 'requests-expired'; requests: Pick<PermissionRequest, 'id' | 'group'>[] }
  /** Pending permission requests to tell the approvers of (answered with requests-announced once sent). */
  | { type: 'requests-pending'; requests: PermissionRequest[] }
  | { type: 'requests-failed'; error: string }
  /** Whether the store takes writes, sent when that changes (after a write or a heartbeat). */
  | { type: 'store'; ok: boolean; error: string }
  /** With `shared`: how shipping the evidence stands (after each pass). */
  | { type: 'shipping'; state: ShippingState }
  /** Rows never shipped that a retention purge is deleting now. */
  | { type: 'shipping-lost'; rows: number }
  /** A run of the shared store's retention this filter made: what it did, or why it failed. */
  | { type: 'central-retention'; result: CentralRetentionResult | { error: string } }
  | { type: 'closed'; unwritten: number };
