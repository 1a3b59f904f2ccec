import os from 'node:os';
import { z } from 'zod';

/**
 * Config of several filters sharing one state: `site` (the school), `node` (this filter) and the
 * shared PostgreSQL store (`shared.postgres`). Part of the one config schema (see schema.ts).
 */

const ms = (def: number, min: number, max: number) => z.number().int().min(min).max(max).default(def);

/** Site names: lower-case, digits, '-' and '_' (they are written into every shared row). */
export const SITE_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Node names may also hold dots (host names). */
export const NODE_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** This host's name, made a valid node name (the default of `node`). */
export function defaultNodeName(): string {
  const name = os
    .hostname()
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return name || 'webfilter';
}

export const siteSchema = z.string().regex(SITE_RE, 'site names use a-z, 0-9, - and _ (e.g. carres-grammar)').optional();
export const nodeSchema = z
  .string()
  .regex(NODE_RE, 'node names use a-z, 0-9, ., - and _ (e.g. dns1)')
  .default(() => defaultNodeName());

/** A URL's password, if it has one (a password in the config file would be readable by the review group). */
function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

export const postgresSchema = z
  .strictObject({
    /**
     * postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full — no password here: put it in the
     * PGPASSWORD environment (or ~/.pgpass), or put the whole URL in `url_file`.
     */
    url: z
      .string()
      .min(1)
      .superRefine((s, ctx) => {
        if (!/^postgres(ql)?:\/\//.test(s))
          ctx.addIssue({
            code: 'custom',
            message: 'is not a postgres:// URL (e.g. postgres://webfilter@db.trust.example/webfilter)',
          });
        else if (hasPassword(s))
          ctx.addIssue({
            code: 'custom',
            message:
              'holds a password: put the URL with its password in url_file (readable by the service user only) or the password in PGPASSWORD',
          });
      })
      .optional(),
    /** A file (relative to the config file) holding the URL, password included; read at start. */
    url_file: z.string().min(1).optional(),
    /** Longest wait for a connection before the store counts as unreachable. */
    connect_timeout_ms: ms(5000, 100, 120_000),
    /** Longest wait for one statement (a paused server answers nothing: this is how it is noticed). */
    query_timeout_ms: ms(5000, 100, 120_000),
    /** Connections each process keeps (the daemon, a CLI command). */
    max_connections: z.number().int().min(1).max(100).default(4),
    /** Changes are pushed at once (LISTEN/NOTIFY); this safety poll catches any notification lost. */
    poll_seconds: z.number().int().min(1).max(3600).default(30),
  })
  .superRefine((p, ctx) => {
    if (p.url !== undefined && p.url_file !== undefined)
      ctx.addIssue({ code: 'custom', path: ['url_file'], message: 'give url or url_file, not both' });
  });

const days = (def: number) => z.number().int().min(1).max(3650).default(def);

/**
 * `shared.retention:` how long the shared store keeps the evidence every filter ships (the local
 * `retention:` is each box's own copy; it may be shorter). Defaults as the local ones. Once an hour
 * one filter of the trust drops the month partitions entirely older and deletes the older rows of
 * the month that straddles the cut; give every filter the same values (each runs it with its own).
 */
export const sharedRetentionSchema = z
  .strictObject({
    blocked_days: days(365),
    signals_days: days(365),
    access_days: days(90),
  })
  .prefault({});

/** `shared:` — absent for a single box (everything stays in the local SQLite store). */
export const sharedSchema = z.strictObject({ postgres: postgresSchema, retention: sharedRetentionSchema }).optional();

export type PostgresConfig = z.infer<typeof postgresSchema>;
export type SharedRetention = z.infer<typeof sharedRetentionSchema>;
