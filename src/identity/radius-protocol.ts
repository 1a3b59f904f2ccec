/** Messages and settings shared by the RADIUS worker thread and its host on the DNS thread. */
import type { HostPort } from '../config/host-port.js';
import type { AccountingRecord, GroupAttribute } from './accounting.js';

/** A NAS (or network of them) and its shared secret. */
export interface NasClient {
  cidr: string;
  secret: Uint8Array;
}

export interface RadiusInit {
  listen: HostPort[];
  clients: NasClient[];
  groupAttribute: GroupAttribute;
}

/** Why a packet was or was not accepted (label values of webfilter_radius_packets_total). */
export const RADIUS_OUTCOMES = [
  'accepted',
  'unknown_client',
  'malformed',
  'bad_authenticator',
  'not_accounting',
  'queue_full',
] as const;
export type RadiusOutcome = (typeof RADIUS_OUTCOMES)[number];
export type RadiusCounts = Record<RadiusOutcome, number>;

/** Main → worker. */
export type ToRadius = { type: 'configure'; clients: NasClient[]; groupAttribute: GroupAttribute } | { type: 'close' };

/** Worker → main. */
export type FromRadius =
  | { type: 'listening'; addresses: string[] }
  | { type: 'failed'; error: string }
  | { type: 'records'; records: AccountingRecord[]; counts: RadiusCounts }
  | { type: 'counts'; counts: RadiusCounts }
  | { type: 'error'; error: string }
  | { type: 'closed' };
