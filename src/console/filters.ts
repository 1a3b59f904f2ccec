import { parseDuration } from '../time/duration.js';
import { parseWhen, WHEN_HINT } from '../time/when.js';
import { parseIp } from '../net/ip.js';
import type { ReviewFilter } from '../review/queries.js';
import { param, type RequestContext } from './context.js';

/** Signal kinds, for the filter's choices. */
export const SIGNAL_KINDS = ['encrypted-dns', 'vpn-proxy', 'doh-canary', 'private-relay', 'ddr', 'tunnel', 'persistent-attempts'];

/** The filter form's values as typed, and a message per field that is wrong. */
export interface ParsedFilter {
  filter: ReviewFilter;
  values: Record<string, string>;
  errors: Record<string, string>;
}

/**
 * Reads and checks the review filter of a page (since, until, group, category, kind, device,
 * client, q). A wrong field gets a message and the page shows the default for it instead.
 */
export function readFilter(ctx: RequestContext, fields: string[], defaultSince = '7d'): ParsedFilter {
  const { config } = ctx.env.loaded;
  const values: Record<string, string> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) values[f] = param(ctx, f);
  const filter: ReviewFilter = { since: ctx.now - parseDuration(defaultSince), until: ctx.now + 1, limit: 500 };
  if (values.since) {
    const t = parseWhen(values.since, ctx.now);
    if (t === null) errors.since = WHEN_HINT;
    else filter.since = t;
  }
  if (values.until) {
    const t = parseWhen(values.until, ctx.now);
    if (t === null) errors.until = WHEN_HINT;
    else if (t <= filter.since) errors.until = 'must be after "since"';
    else filter.until = t;
  }
  if (values.group) {
    if (config.groups[values.group] || values.group === 'none') filter.group = values.group === 'none' ? '' : values.group;
    else errors.group = `no such group (groups: ${Object.keys(config.groups).join(', ')})`;
  }
  if (values.kind) {
    if (SIGNAL_KINDS.includes(values.kind)) filter.kind = values.kind;
    else errors.kind = `no such kind (kinds: ${SIGNAL_KINDS.join(', ')})`;
  }
  if (values.category) {
    if (/^[a-z0-9][a-z0-9_-]{0,62}$/.test(values.category)) filter.category = values.category;
    else errors.category = 'not a category name';
  }
  if (values.device) {
    if (values.device.length <= 100) filter.device = values.device;
    else errors.device = 'at most 100 characters';
  }
  if (values.client) {
    if (parseIp(values.client)) filter.client = values.client;
    else errors.client = 'not an IP address';
  }
  return { filter, values, errors };
}

/** Group names for a select, "" first (any). */
export function groupChoices(ctx: RequestContext): string[] {
  return ['', ...Object.keys(ctx.env.loaded.config.groups)];
}
