import { z } from 'zod';
import { parseIp } from '../net/ip.js';
import { normaliseDomain } from '../dns/name.js';

/**
 * Config pieces for names the school answers or forwards itself: `upstream.zones` (conditional
 * forwarding, e.g. the Active Directory domain to the domain controllers) and `local_records`.
 * Part of the one config schema (see schema.ts).
 */

const address = z.string().refine((s) => parseIp(s) !== null, { message: 'is not an IPv4 or IPv6 address' });

/**
 * Refinement of a record keyed by zone or record names: each key is a domain name (IDN allowed,
 * trailing dot optional, any case), and two spellings of one name ("School.local." and
 * "school.local") are a mistake. Runs even when values failed, so every mistake is listed at once.
 */
function nameKeys(what: string) {
  return (records: unknown, ctx: z.RefinementCtx): void => {
    if (typeof records !== 'object' || records === null) return;
    const seen = new Map<string, string>();
    for (const key of Object.keys(records)) {
      const n = normaliseDomain(key);
      if (typeof n !== 'string') {
        ctx.addIssue({ code: 'custom', path: [key], message: n.error });
        continue;
      }
      const prev = seen.get(n);
      if (prev !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `the same ${what} as "${prev}"` });
      else seen.set(n, key);
    }
  };
}

/**
 * Name → one address or a list of them (IPv4 and/or IPv6): answered here for every group (A, AAAA,
 * NODATA for other types) with the matching PTR for each address.
 */
export const localRecordsSchema = z
  .record(z.string(), z.union([address, z.array(address).min(1)]))
  .superRefine(nameKeys('name'), { when: () => true })
  .default({});

/**
 * Zone → its own servers (`server` validates one "host:port"): names in the zone, at any depth, go to
 * them instead of the main upstreams; the longest matching zone wins.
 */
export function zonesSchema(server: z.ZodType<string>) {
  return z
    .record(z.string(), z.array(server).min(1))
    .superRefine(nameKeys('zone'), { when: () => true })
    .default({});
}
