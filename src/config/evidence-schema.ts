import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { kindsFoundBy, SIGNAL_KINDS, type ConfigKeyOf, type KindFoundBy } from '../signals/kinds.js';

/**
 * Config sections of the evidence store: database, device names, circumvention detectors and
 * retention. Part of the one config schema (see schema.ts).
 */

const int = (def: number, min: number, max: number) => z.number().int().min(min).max(max).default(def);
const lists = z.array(z.string().min(1)).default([]);

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export const databaseSchema = z
  .strictObject({
    /** SQLite file; its directory must exist and be writable by the daemon. */
    path: z.string().min(1).default('/var/lib/webfilter/webfilter.db'),
    /** Events waiting to be written; beyond this they are dropped and counted (DNS is never delayed). */
    queue_size: int(100_000, 10, 10_000_000),
    /** Rows per write transaction. */
    batch_rows: int(1000, 1, 100_000),
    /** Longest an event waits before its batch is written. */
    flush_ms: int(250, 10, 60_000),
    /**
     * Largest the database may grow, in MB (0 = until the disk is full). When reached, new events
     * are dropped and counted like on a full disk, DNS carries on, and retention frees room.
     */
    max_size_mb: z.number().min(0).max(10_000_000).default(0),
    /**
     * A blocked attempt repeated by the same device (same name, type, category and answer) within
     * this many seconds after the last one's block answer expired (blocking.ttl) is counted on that
     * row rather than stored again (a phone's app retries its names every TTL, all day); 0 = a row
     * per attempt.
     */
    collapse_seconds: int(60, 0, 3600),
  })
  .prefault({});

export const clientsSchema = z
  .strictObject({
    /** IP address or MAC address → device name, e.g. "10.20.12.34": R12-PC07. */
    names: z
      .record(
        z.string().refine((k) => MAC_RE.test(k) || /^[0-9a-f.:]+$/i.test(k), { message: 'keys are IP or MAC addresses' }),
        z.string().min(1).max(100),
      )
      .default({}),
    /** A DHCP leases file giving IP → MAC and hostname; re-read when it changes. */
    leases: z
      .strictObject({
        file: z.string().min(1),
        /** windows-csv: `Get-DhcpServerv4Lease | Export-Csv` from a Windows DHCP server. */
        format: z.enum(['dnsmasq', 'isc', 'windows-csv']).default('dnsmasq'),
      })
      .optional(),
    /**
     * Name a device with no configured or DHCP name by its address's PTR, asked of the upstream.zones
     * servers (e.g. the domain controllers) by the evidence writer thread, never the DNS thread.
     */
    names_from_ptr: z.boolean().default(false),
  })
  .prefault({});

const enabled = z.boolean().default(true);

/** A list kind's section: blocked for every group and recorded; the lists add to the shipped ones. */
const listRule = z.strictObject({ enabled, lists }).prefault({});
/** An answer rule's section: its built-in names get their steering answer while enabled. */
const answerRule = z.strictObject({ enabled }).prefault({});
/** A decoder's section: proxy names are decided by the site they show while enabled. */
const decoderRule = z.strictObject({ enabled }).prefault({});

/** The detectors' settings, by config key (the compiler asks for one per detector kind of the registry). */
const detectorSettings = {
  /** DNS-tunnelling heuristics per client and registrable domain. */
  tunnel: z
    .strictObject({
      enabled,
      window_seconds: int(60, 5, 3600),
      /** Unique names under one domain in the window, with long encoded parts, that make a tunnel. */
      unique_subdomains: int(100, 10, 100_000),
      /** Mean length of the part before the registrable domain for the unique-names rule. */
      min_encoded_length: int(60, 4, 250),
      /** TXT/NULL/ANY queries for unique names under one domain in the window. */
      txt_queries: int(30, 5, 100_000),
      /** A label at least this long and at least this random (bits/char) is "encoded data". */
      long_label: int(50, 20, 63),
      entropy_bits: z.number().min(1).max(8).default(3.8),
      /** This many such long encoded names in the window make a tunnel. */
      long_names: int(10, 1, 100_000),
    })
    .prefault({}),
  /** One client blocked many times for one category in a short time: one signal per window. */
  persistent_attempts: z
    .strictObject({
      enabled,
      threshold: int(20, 2, 100_000),
      window_minutes: int(5, 1, 1440),
    })
    .prefault({}),
} satisfies Record<ConfigKeyOf<KindFoundBy<'detector'>>, z.ZodType>;

type RuleSections = { [K in KindFoundBy<'list'> as ConfigKeyOf<K>]: typeof listRule } & {
  [K in KindFoundBy<'answer'> as ConfigKeyOf<K>]: typeof answerRule;
} & { [K in KindFoundBy<'decoder'> as ConfigKeyOf<K>]: typeof decoderRule };

/** One section per rule kind of the registry (signals/kinds.ts), under its config key. */
function ruleSections(): RuleSections {
  const out: Record<string, z.ZodType> = {};
  for (const k of kindsFoundBy('list')) out[SIGNAL_KINDS[k].configKey] = listRule;
  for (const k of kindsFoundBy('answer')) out[SIGNAL_KINDS[k].configKey] = answerRule;
  for (const k of kindsFoundBy('decoder')) out[SIGNAL_KINDS[k].configKey] = decoderRule;
  return out as RuleSections;
}

/** `circumvention:` — a section per signal kind, keyed as the registry says. */
export const circumventionSchema = z.strictObject({ ...ruleSections(), ...detectorSettings }).prefault({});

export const retentionSchema = z
  .strictObject({
    blocked_days: int(365, 1, 3650),
    signals_days: int(365, 1, 3650),
    access_days: int(90, 1, 3650),
    /** When the daily purge runs (cron, local time). */
    schedule: z
      .string()
      .refine((s) => validCron(s), { message: 'is not a cron expression (e.g. "17 3 * * *" = 03:17 daily)' })
      .default('17 3 * * *'),
  })
  .prefault({});
