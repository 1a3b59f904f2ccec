import { z } from 'zod';
import { cidr, duration, hostPort } from './field-types.js';

/**
 * `identity:`: who is at an address, learnt from RADIUS accounting and from an authenticated HTTP
 * feed, so evidence names the person and a user's group can decide the policy. Part of the one
 * config schema (see schema.ts).
 */

const HOUR = 3_600_000;

export const radiusAccountingSchema = z.strictObject({
  /** UDP addresses to receive Accounting-Requests on (1813 is the IANA port). */
  listen: z.array(hostPort(1813)).min(1).default(['0.0.0.0:1813']),
  /** The NASes (Wi-Fi controllers, switches, NPS) allowed to send accounting, each with its shared secret. */
  clients: z
    .array(
      z.strictObject({
        /** The NAS's address, or a network of them sharing one secret. */
        address: cidr,
        /** File holding the shared secret (relative to the config file); read at start and on reload. */
        secret_file: z.string().min(1),
      }),
    )
    .min(1),
});

export const identityFeedSchema = z
  .strictObject({
    /** `POST /identity` on the metrics listener. */
    enabled: z.boolean().default(false),
    /** File holding the bearer token (at least 16 characters; relative to the config file). */
    token_file: z.string().min(1).optional(),
    /** Requests allowed per caller address per minute (failed sign-ins count ten times). */
    requests_per_minute: z.number().int().min(1).max(100_000).default(600),
  })
  .refine((f) => !f.enabled || f.token_file !== undefined, {
    message: 'an enabled feed needs token_file',
    path: ['token_file'],
  });

export const identitySchema = z
  .strictObject({
    radius_accounting: radiusAccountingSchema.optional(),
    feed: identityFeedSchema.prefault({}),
    /** The RADIUS attribute whose value names a webfilter group: Filter-Id (11), Class (25), or none. */
    group_attribute: z.enum(['filter-id', 'class', 'none']).default('filter-id'),
    /** How long a mapping lasts without an Interim-Update or a new feed post. */
    default_ttl: duration(60_000, 7 * 24 * HOUR).default('12h'),
    /** The longest `ttl` a feed post may ask for. */
    max_ttl: duration(60_000, 30 * 24 * HOUR).default('7d'),
  })
  .prefault({});

/** The secret files `identity:` names, with the YAML path of each (for load-time checks). */
export function identityFiles(identity: z.infer<typeof identitySchema>): { yamlPath: (string | number)[]; file: string }[] {
  const out: { yamlPath: (string | number)[]; file: string }[] = [];
  identity.radius_accounting?.clients.forEach((c, i) =>
    out.push({ yamlPath: ['identity', 'radius_accounting', 'clients', i, 'secret_file'], file: c.secret_file }),
  );
  if (identity.feed.enabled && identity.feed.token_file)
    out.push({ yamlPath: ['identity', 'feed', 'token_file'], file: identity.feed.token_file });
  return out;
}
