import { z } from 'zod';
import { parseCidr } from '../net/cidr.js';
import { parseIp } from '../net/ip.js';
import { cidr, hostPort } from './field-types.js';
import { parseDuration } from '../time/duration.js';
import { parseClock } from '../time/schedule.js';
import { validTimezone } from '../time/zoned-time.js';
import { RESERVED_CATEGORIES } from '../signals/kinds.js';
import { localRecordsSchema, zonesSchema } from './local-dns-schema.js';
import { circumventionSchema, clientsSchema, databaseSchema, retentionSchema } from './evidence-schema.js';
import { categorySchema, subscriptionsSchema } from './lists-schema.js';
import { identitySchema } from './identity-schema.js';
import { alertsSchema } from './alerts-schema.js';
import { upstreamServer } from './upstream-spec.js';
import { checkRequests, requestsSchema } from './requests-schema.js';
import { nodeSchema, sharedSchema, siteSchema } from './shared-schema.js';

/**
 * The one schema of webfilter.yaml: it is the source of the config's types, defaults and validation.
 * Every refinement's message is written to follow the YAML path, e.g.
 * `groups.students.clients[2]: "10.0.0.0/33" is not a CIDR`.
 */

/** Names used as metric labels and CLI arguments: lower-case, digits, '-' and '_'. */
const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const blockResponse = z.string().superRefine((s, ctx) => {
  if (s === 'nxdomain' || s === 'null' || s === 'refused' || parseIp(s)) return;
  ctx.addIssue({
    code: 'custom',
    message: `"${s}" is not a block response (use nxdomain, null, refused or an IPv4/IPv6 address)`,
  });
});

const ms = (def: number, min: number, max: number) => z.number().int().min(min).max(max).default(def);

export const serverSchema = z
  .strictObject({
    /** Addresses to serve, each on UDP and TCP. */
    listen: z.array(hostPort(null)).min(1).default(['0.0.0.0:53', '[::]:53']),
    /** Clients outside these networks are REFUSED (no open resolver). */
    allowed_clients: z
      .array(cidr)
      .default(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '::1/128', 'fc00::/7']),
    tcp: z
      .strictObject({
        idle_timeout_ms: ms(10_000, 100, 600_000),
        max_connections: z.number().int().min(1).max(100_000).default(1000),
        max_queries_per_connection: z.number().int().min(1).max(1_000_000).default(10_000),
        /** Open connections one client address may hold. */
        max_connections_per_client: z.number().int().min(1).max(100_000).default(10),
        /** A message that has begun arriving must be complete within this (slowloris). */
        read_timeout_ms: ms(5_000, 100, 600_000),
        /** Reply bytes waiting for a client to read before its connection stops taking queries. */
        max_unsent_bytes: z
          .number()
          .int()
          .min(4096)
          .max(16 * 1024 * 1024)
          .default(65_536),
      })
      .prefault({}),
    /** Per-client token bucket; `qps: 0` (the default) turns it off. */
    rate_limit: z
      .strictObject({
        qps: z.number().min(0).max(1_000_000).default(0),
        burst: z.number().int().min(1).max(1_000_000).default(200),
        ipv4_prefix: z.number().int().min(8).max(32).default(32),
        ipv6_prefix: z.number().int().min(32).max(128).default(56),
        action: z.enum(['drop', 'refuse']).default('drop'),
        max_clients: z.number().int().min(1).max(10_000_000).default(100_000),
      })
      .prefault({}),
    /**
     * Unprivileged user (and group) to switch to once every socket is bound, when started as root
     * (not needed under systemd, which starts the daemon as its user with CAP_NET_BIND_SERVICE).
     */
    user: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    /**
     * DNS processes sharing the listening sockets: 1 (one process does everything), a number, or
     * "auto" (one per CPU core). With more than one, a primary process keeps the evidence writer,
     * console, metrics and identity listeners and forks that many DNS workers.
     */
    workers: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default(1),
  })
  .prefault({});

/** The review console (web pages for the online safety officer and ICT). */
export const consoleSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** host:port; keep it on the management network. */
    listen: hostPort(null).default('127.0.0.1:8080'),
    /** HTTPS with these PEM files (relative to the config file); read once at start. */
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /** A session ends after this long without a request... */
    session_idle_minutes: z.number().int().min(1).max(1440).default(30),
    /** ...and this long after sign-in, whatever happens. */
    session_max_hours: z.number().int().min(1).max(168).default(12),
    /**
     * The console's address as staff's browsers reach it ("https://filter.school.example:8443"): alert
     * messages link to a device's page under it. Without it, messages carry no link.
     */
    public_url: z
      .string()
      .superRefine((s, ctx) => {
        let u: URL;
        try {
          u = new URL(s);
        } catch {
          return ctx.addIssue({ code: 'custom', message: 'is not a URL (e.g. https://filter.school.example:8443)' });
        }
        if (u.protocol !== 'https:' && u.protocol !== 'http:')
          ctx.addIssue({ code: 'custom', message: 'must start with https:// (or http://)' });
        if (u.username || u.password || u.search || u.hash)
          ctx.addIssue({ code: 'custom', message: "must be the console's address only: no user, password, query or fragment" });
      })
      .optional(),
    /** The school's reverse proxies: X-Forwarded-For is believed only from these. */
    trusted_proxies: z.array(cidr).default([]),
    /** Open connections at once, and from one address (trusted proxies are exempt from the latter). */
    max_connections: z.number().int().min(1).max(10_000).default(200),
    max_connections_per_address: z.number().int().min(1).max(10_000).default(20),
    /** A request's headers must arrive within this long; silent connections are closed. */
    headers_timeout_ms: ms(5000, 1000, 60_000),
    /** Failed sign-ins free of delay per account+address and per address; forgotten after the window. */
    login_attempts: z
      .strictObject({
        per_account: z.number().int().min(1).max(1000).default(5),
        per_address: z.number().int().min(1).max(10_000).default(20),
        window_minutes: z.number().int().min(1).max(1440).default(15),
      })
      .prefault({}),
  })
  .prefault({});

export const upstreamSchema = z
  .strictObject({
    /**
     * host:port or [v6]:port (plain DNS), tls://ADDR:853#name (DNS over TLS), https://ADDR/dns-query#name
     * (DNS over HTTPS), mixed; empty = the nameservers of /etc/resolv.conf (filled in at load).
     */
    servers: z.array(upstreamServer).default([]),
    /** PEM file of extra CA certificates for DoT/DoH upstreams (e.g. a local authority's private CA). */
    tls_ca: z.string().min(1).optional(),
    strategy: z.enum(['failover', 'parallel']).default('failover'),
    timeout_ms: ms(1500, 50, 30_000),
    /** Upstream queries waiting at once; beyond this new queries get SERVFAIL at once. */
    max_in_flight: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Conditional forwarding: zone → its servers (e.g. the AD domain → the domain controllers). */
    zones: zonesSchema(hostPort(53)),
  })
  .prefault({});

export const cacheSchema = z
  .strictObject({
    max_entries: z.number().int().min(0).max(10_000_000).default(100_000),
    /** Longest a positive answer is kept, whatever its TTL says. */
    max_ttl: z.number().int().min(0).max(604_800).default(86_400),
    /** Longest a negative answer (NXDOMAIN/NODATA, RFC 2308) is kept. */
    max_negative_ttl: z.number().int().min(0).max(86_400).default(3600),
  })
  .prefault({});

function durationOk(s: string): boolean {
  try {
    parseDuration(s);
    return true;
  } catch {
    return false;
  }
}

const groupSchema = z.strictObject({
  clients: z.array(cidr).default([]),
  block: z.array(z.string()).default([]),
  /** schedule → categories of `block` that are allowed while the schedule runs (e.g. staff in breaks). */
  allow_during: z.record(z.string(), z.array(z.string())).default({}),
  /** schedule → categories blocked only while the schedule runs (e.g. YouTube in lessons). */
  block_during: z.record(z.string(), z.array(z.string())).default({}),
  /** Force Google, Bing, YouTube and DuckDuckGo into safe mode: true, or { youtube: strict | moderate }. */
  safe_search: z
    .preprocess(
      (v) => (typeof v === 'boolean' ? { enabled: v } : v),
      z.strictObject({ enabled: z.boolean().default(true), youtube: z.enum(['strict', 'moderate']).default('strict') }),
    )
    .default({ enabled: false, youtube: 'strict' }),
});

const dateText = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD');
const dateRange = z
  .strictObject({ from: dateText, to: dateText })
  .refine((r) => r.from <= r.to, { message: '"from" is after "to"' });

/** Named weekly windows, with optional terms and holidays, in the config's timezone. */
const scheduleSchema = z.strictObject({
  days: z
    .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
    .min(1)
    .default(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']),
  windows: z
    .array(
      z.string().refine(
        (w) => {
          const m = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(w);
          return !!m && parseClock(m[1]) >= 0 && parseClock(m[2]) >= 0 && m[1] !== m[2];
        },
        { message: 'a window is "HH:MM-HH:MM" (e.g. "10:40-11:00"; "22:00-06:00" runs past midnight)' },
      ),
    )
    .min(1),
  /** When given, the schedule runs only inside these date ranges (inclusive). */
  terms: z.array(dateRange).optional(),
  /** The schedule does not run on these dates (inclusive). */
  holidays: z.array(dateRange).default([]),
});

export const configSchema = z
  .strictObject({
    /** The school this filter serves (e.g. carres-grammar): written into every shared row. Required with `shared`. */
    site: siteSchema,
    /** This filter's own name among the site's filters; default: the host name. */
    node: nodeSchema,
    /** Several filters sharing one state (exceptions, evidence, accounts) in PostgreSQL; absent: a single box. */
    shared: sharedSchema,
    server: serverSchema,
    upstream: upstreamSchema,
    cache: cacheSchema,
    /** Category name → list files (relative to the config file, or absolute) and https:// URLs. */
    categories: z.record(z.string().regex(NAME_RE, 'category names use a-z, 0-9, - and _'), categorySchema).default({}),
    subscriptions: subscriptionsSchema,
    exceptions: z
      .strictObject({
        /** Longest an exception may last ("30d", "8h"). */
        max_duration: z
          .string()
          .refine((s) => durationOk(s), { message: 'is not a duration (e.g. 30d, 8h, 90m)' })
          .default('30d'),
      })
      .prefault({}),
    groups: z.record(z.string().regex(NAME_RE, 'group names use a-z, 0-9, - and _'), groupSchema).default({}),
    /** IANA timezone of the school's timetable (correct across BST/GMT changes). */
    timezone: z
      .string()
      .refine((tz) => validTimezone(tz), { message: 'is not an IANA timezone (e.g. Europe/London)' })
      .default('Europe/London'),
    schedules: z.record(z.string().regex(NAME_RE, 'schedule names use a-z, 0-9, - and _'), scheduleSchema).default({}),
    blocking: z
      .strictObject({
        response: blockResponse.default('nxdomain'),
        ttl: z.number().int().min(0).max(86_400).default(60),
        /** Check every name of a forwarded answer's CNAME/DNAME/HTTPS chain with the client's policy. */
        cname_inspection: z.boolean().default(true),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
        /** Allowed queries: hourly aggregates per client and domain, one row per query, or nothing. */
        access: z.enum(['aggregate', 'full', 'off']).default('aggregate'),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Prometheus scrapes /metrics here; /healthz and /readyz too. Keep it off the client networks. */
        listen: hostPort(null).default('127.0.0.1:9253'),
        /** Not ready when no upstream has answered within this long (an idle daemon probes). */
        upstream_fresh_seconds: z.number().int().min(5).max(3600).default(60),
      })
      .prefault({}),
    /** Names answered here for every group: name → address(es), with matching PTRs. */
    local_records: localRecordsSchema,
    console: consoleSchema,
    database: databaseSchema,
    clients: clientsSchema,
    circumvention: circumventionSchema,
    retention: retentionSchema,
    identity: identitySchema,
    alerts: alertsSchema,
    requests: requestsSchema,
  })
  // Cross-field rules. `when: () => true` makes them run even when other fields already failed, so
  // `config check` lists every mistake at once; the input may therefore be partly malformed here.
  .superRefine(
    (cfg, ctx) => {
      const categories = isRecord(cfg.categories) ? cfg.categories : {};
      const groups = isRecord(cfg.groups) ? cfg.groups : {};
      const owner = new Map<string, string>();
      if (!groups.default) {
        ctx.addIssue({
          code: 'custom',
          path: ['groups', 'default'],
          message: 'required: the policy for clients in no other group',
        });
      }
      const feed: unknown = isRecord(cfg.identity) ? cfg.identity.feed : undefined;
      if (isRecord(feed) && feed.enabled === true && isRecord(cfg.metrics) && cfg.metrics.enabled === false) {
        ctx.addIssue({
          code: 'custom',
          path: ['identity', 'feed', 'enabled'],
          message: 'the feed is served on the metrics listener: it needs metrics.enabled: true',
        });
      }
      if (cfg.shared !== undefined && cfg.site === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['site'],
          message: "required with shared: the school's name in the trust (e.g. carres-grammar), written into every shared row",
        });
      }
      for (const issue of checkRequests(cfg)) ctx.addIssue({ code: 'custom', ...issue });
      for (const name of Object.keys(categories)) {
        if (RESERVED_CATEGORIES.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['categories', name],
            message: `"${name}" is a circumvention category; configure it under circumvention`,
          });
        }
      }
      for (const [name, group] of Object.entries(groups)) {
        if (!isRecord(group)) continue;
        const clients = Array.isArray(group.clients) ? group.clients : [];
        const block = Array.isArray(group.block) ? group.block : [];
        if (name === 'default' && clients.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['groups', name, 'clients'],
            message: 'the default group covers clients in no other group; give it no clients',
          });
        }
        block.forEach((c: unknown, i: number) => {
          if (typeof c === 'string' && !Object.hasOwn(categories, c)) {
            ctx.addIssue({
              code: 'custom',
              path: ['groups', name, 'block', i],
              message: `unknown category "${c}" (categories: ${Object.keys(categories).join(', ') || 'none defined'})`,
            });
          }
        });
        const schedules = isRecord(cfg.schedules) ? cfg.schedules : {};
        const blocked = new Set(block);
        for (const key of ['allow_during', 'block_during'] as const) {
          const rules = isRecord(group[key]) ? group[key] : {};
          for (const [sched, cats] of Object.entries(rules)) {
            if (!Object.hasOwn(schedules, sched)) {
              ctx.addIssue({
                code: 'custom',
                path: ['groups', name, key, sched],
                message: `unknown schedule "${sched}" (schedules: ${Object.keys(schedules).join(', ') || 'none defined'})`,
              });
            }
            (Array.isArray(cats) ? cats : []).forEach((c: unknown, i: number) => {
              const path = ['groups', name, key, sched, i];
              if (typeof c !== 'string') return;
              if (!Object.hasOwn(categories, c)) {
                ctx.addIssue({
                  code: 'custom',
                  path,
                  message: `unknown category "${c}" (categories: ${Object.keys(categories).join(', ') || 'none defined'})`,
                });
              } else if (key === 'allow_during' && isRecord(categories[c]) && categories[c].locked === true) {
                ctx.addIssue({ code: 'custom', path, message: `"${c}" is locked: no schedule may allow it` });
              } else if (key === 'allow_during' && !blocked.has(c)) {
                ctx.addIssue({
                  code: 'custom',
                  path,
                  message: `"${c}" is not in this group's block list, so there is nothing to allow (did you mean block_during?)`,
                });
              }
            });
          }
        }
        clients.forEach((c: unknown, i: number) => {
          let key: string;
          try {
            const p = parseCidr(String(c));
            key = `${Array.from(p.bytes).join('.')}/${p.prefix}`;
          } catch {
            return; // reported by the element schema
          }
          const prev = owner.get(key);
          if (prev !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['groups', name, 'clients', i],
              message: `"${c}" is already a client network of group "${prev}"`,
            });
          } else owner.set(key, name);
        });
      }
    },
    { when: () => true },
  );

function isRecord(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The validated config, with defaults filled in. */
export type Config = z.infer<typeof configSchema>;
export type GroupConfig = z.infer<typeof groupSchema>;
