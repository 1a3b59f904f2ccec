import type { PostgresConfig, SharedRetention } from '../config/shared-schema.js';

/**
 * Where the shared store is (`shared.postgres`) and who this filter is in it. The URL's password is
 * never here: it is read from `urlFile` (or the PG* environment) when connecting.
 */
export interface SharedLocation {
  /** The school (`site`): every shared row carries it; a node sees its own site's exceptions. */
  site: string;
  /** This filter (`node`, default the host name). */
  node: string;
  postgres: PostgresConfig;
  /** `shared.postgres.url_file`, absolute, or null (then `url`, else the PG* environment). */
  urlFile: string | null;
  /** `shared.retention`: with it, the daemon's shipping runs the central retention (at most hourly, trust-wide). */
  retention?: SharedRetention;
}

/** What `webfilter shared status` shows about the shared store. */
export interface SharedStatus {
  /** user@host:port/database (no password). */
  target: string;
  connected: boolean;
  /** Why not, when not connected. */
  error: string | null;
  serverVersion: string | null;
  /** Round trip of one statement, ms. */
  latencyMs: number | null;
  schemaVersion: number | null;
  /** The version this webfilter brings (and applies at start). */
  codeSchemaVersion: number;
  /** The last exception change in the shared store for this site. */
  lastChange: number | null;
  /** Each filter of this site as it last reported: how far its applied exception changes lag. */
  nodes: {
    node: string;
    lastSeen: number;
    appliedChange: number;
    lagChanges: number;
    /** Its evidence shipping as it last reported (null: it has not shipped yet). */
    shipping: { at: number; backlogRows: number; lagSeconds: number } | null;
  }[];
}

/** The shared store as commands and the daemon use it (one implementation: storage/postgres/). */
export interface SharedStore {
  readonly location: SharedLocation;
  /** user@host:port/database (no password). */
  readonly target: string;
  /** Applies the schema migrations this webfilter brings; `from` and `to` versions. */
  migrate(): Promise<{ from: number; to: number }>;
  /** Connection, schema version and each node's lag; never throws for an unreachable store. */
  status(): Promise<SharedStatus>;
  close(): Promise<void>;
}
