import { parseIp } from '../net/ip.js';
import { SIGNAL_KIND_NAMES } from '../signals/kinds.js';
import { parseDuration } from '../time/duration.js';
import { parseWhen, WHEN_HINT } from '../time/when.js';
import type { ReviewFilter } from '../storage/review.js';

/** The review filter's fields as a person typed them (CLI flags, console form fields). */
export interface FilterInput {
  since?: string;
  until?: string;
  group?: string;
  category?: string;
  kind?: string;
  device?: string;
  client?: string;
  /** A person (RADIUS accounting, identity feed), as the rows recorded them. */
  user?: string;
}

export type FilterField = keyof FilterInput;

export interface FilterRules {
  now: number;
  /** The config's groups (`none` also picks the rows of clients in no group). */
  groups: string[];
  /** The period when `since` is not given, e.g. "7d". */
  defaultSince: string;
  /**
   * `device` as a search (names containing it, any case: `logs`, the console's filters) or as one
   * exact name (`export`, a device's page). Default: search.
   */
  device?: 'search' | 'exact';
}

/** The filter to use, and a message per field that was wrong (that field's default is used instead). */
export interface CheckedFilter {
  filter: ReviewFilter;
  errors: Partial<Record<FilterField, string>>;
}

/**
 * The one check of a review filter, for the CLI (`logs`, `report`, `export`: a wrong field is a
 * usage error naming its flag) and the console (the message is shown beside the field).
 */
export function checkFilter(input: FilterInput, rules: FilterRules): CheckedFilter {
  const errors: CheckedFilter['errors'] = {};
  const filter: ReviewFilter = { since: rules.now - parseDuration(rules.defaultSince), until: rules.now + 1 };
  const { since, until, group, category, kind, device, client, user } = input;
  if (since) {
    const t = parseWhen(since, rules.now);
    if (t === null) errors.since = WHEN_HINT;
    else filter.since = t;
  }
  if (until) {
    const t = parseWhen(until, rules.now);
    if (t === null) errors.until = WHEN_HINT;
    else if (t <= filter.since) errors.until = 'must be after "since"';
    else filter.until = t;
  }
  if (group) {
    if (rules.groups.includes(group) || group === 'none') filter.group = group === 'none' ? '' : group;
    else errors.group = `no such group (groups: ${rules.groups.join(', ')})`;
  }
  if (kind) {
    if ((SIGNAL_KIND_NAMES as string[]).includes(kind)) filter.kind = kind;
    else errors.kind = `no such kind (kinds: ${SIGNAL_KIND_NAMES.join(', ')})`;
  }
  if (category) {
    if (/^[a-z0-9][a-z0-9_-]{0,62}$/.test(category)) filter.category = category;
    else errors.category = 'not a category name';
  }
  if (device) {
    if (device.length > 100) errors.device = 'at most 100 characters';
    else if (rules.device === 'exact') filter.device = device;
    else filter.deviceSearch = device;
  }
  if (client) {
    if (parseIp(client)) filter.client = client;
    else errors.client = 'not an IP address';
  }
  if (user) {
    if (user.length <= 128) filter.user = user;
    else errors.user = 'at most 128 characters';
  }
  return { filter, errors };
}
