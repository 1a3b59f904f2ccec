import type { QueryEvent } from '../../observe/query-event.js';
import type { SignalRow } from '../../storage/evidence.js';

/**
 * What the evidence processor knows about the event being looked at, beyond the event. Worked out
 * on first use (naming a device or finding a registrable domain costs time) and only valid during
 * the `observe` call: a detector keeps the strings, never the object.
 */
export interface EventFacts {
  /** The device's name at the time ("" when unknown). */
  readonly device: string;
  /** The registrable domain of the name ("www.bbc.co.uk" → "bbc.co.uk"). */
  readonly domain: string;
}

/**
 * A circumvention detector: looks at every query event the evidence writer sees, keeps what state
 * it needs across batches, and reports a signal row when it finds one. Runs in the writer thread.
 * Adding one: a file here implementing this, and a line in ./index.ts.
 */
export interface Detector {
  /** Looks at one event; returns the signal it makes, if any. */
  observe(e: QueryEvent, facts: EventFacts): SignalRow | null;
  /** Forgets state older than its window; called about once a minute with the newest event's time. */
  prune(now: number): void;
}

/** True for events of queries that were answered (forwarded, from the cache, or under an exception). */
export function answered(e: QueryEvent): boolean {
  return e.kind === 'forwarded' || e.kind === 'cached' || e.kind === 'exception';
}
