import type { Argv } from 'yargs';
import { checkFilter, type FilterInput } from '../review/filter.js';
import type { ReviewFilter } from '../storage/review.js';
import { CommandError, UsageError } from './errors.js';

/** The review filter flags of `logs`, `report` and `export`. */
export interface FilterFlags extends FilterInput {
  since: string;
  limit?: number;
}

/**
 * The review filter from CLI flags, checked by the same rules as the console's form
 * (review/filter.ts); every wrong flag is named in one usage error (exit 2). A --group the config
 * does not have, alone, is an error about the config's content (exit 1, naming the groups it has),
 * as `check`, `exception add` and `user add` say it.
 */
export function filterFromFlags(
  a: FilterFlags,
  groups: string[],
  now: number,
  device: 'search' | 'exact' = 'search',
): ReviewFilter {
  const { filter, errors } = checkFilter(a, { now, groups, defaultSince: '24h', device });
  const problems = Object.entries(errors).map(([flag, message]) => `--${flag} "${a[flag as keyof FilterInput]}": ${message}`);
  if (a.limit !== undefined && (!Number.isInteger(a.limit) || a.limit < 1))
    problems.push(`--limit ${a.limit}: give a whole number of rows, 1 or more`);
  if (problems.length === 1 && errors.group !== undefined) throw new CommandError(problems[0]);
  if (problems.length > 0) throw new UsageError(problems.join('\n  '));
  return { ...filter, limit: a.limit };
}

/** Filter flags shared by logs and report/export. */
export function filterOptions<T>(y: Argv<T>) {
  return y
    .option('since', { type: 'string', default: '24h', describe: 'From: a duration back (24h, 7d) or a date/time (2026-11-20)' })
    .option('until', { type: 'string', describe: 'To: as --since (default: now)' })
    .option('client', { type: 'string', describe: 'Only this client address' })
    .option('device', { type: 'string', describe: 'Devices whose name contains this (any case: y9 finds Y9-LT-07)' })
    .option('group', { type: 'string', describe: 'Only this group' })
    .option('user', { type: 'string', describe: 'Only rows recorded with this user (RADIUS accounting, identity feed)' });
}
