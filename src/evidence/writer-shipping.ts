/**
 * With `shared`, the evidence the writer thread writes is shipped to PostgreSQL from that thread
 * (never the DNS thread), and the shared store's retention is run from there: the shipper's pace
 * and what it reports to the main thread.
 */
import type { ShippingStores } from '../storage/shipping.js';
import type { Storage } from '../storage/storage.js';
import { EvidenceShipper } from './shipper.js';
import type { FromWriter } from './writer-messages.js';

/** Rows per PostgreSQL transaction, a pass at least this often and at most once a second, the backlog reported this often. */
const SHIP_BATCH_ROWS = 1000;
const SHIP_INTERVAL_MS = 2000;
const SHIP_MIN_GAP_MS = 1000;
const SHIP_REPORT_MS = 10_000;

/** Starts shipping when the store shares its state (null for a single box). */
export function startShipping(storage: Storage, version: string, send: (m: FromWriter) => void): EvidenceShipper | null {
  const shipping = (storage as { shipping?: ShippingStores }).shipping;
  if (!shipping) return null;
  const shipper = new EvidenceShipper({
    stores: shipping,
    version,
    batchRows: SHIP_BATCH_ROWS,
    intervalMs: SHIP_INTERVAL_MS,
    minGapMs: SHIP_MIN_GAP_MS,
    reportMs: SHIP_REPORT_MS,
    onState: (state) => send({ type: 'shipping', state }),
    onLost: (rows) => send({ type: 'shipping-lost', rows }),
    onRetention: (result) => send({ type: 'central-retention', result }),
  });
  shipper.start();
  return shipper;
}
