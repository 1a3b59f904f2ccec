import type { ReviewFilter } from '../storage/review.js';
import { checkFilter, type FilterField, type FilterInput } from '../review/filter.js';
import { param, type RequestContext } from './context.js';

/** The filter form's values as typed, and a message per field that is wrong. */
export interface ParsedFilter {
  filter: ReviewFilter;
  values: Record<string, string>;
  errors: Record<string, string>;
}

/**
 * Reads and checks the review filter of a page (since, until, group, category, kind, device,
 * client, user, q) with the CLI's rules (review/filter.ts). A wrong field gets a message and the page
 * shows the default for it instead.
 */
export function readFilter(ctx: RequestContext, fields: string[], defaultSince = '7d'): ParsedFilter {
  const values: Record<string, string> = {};
  for (const f of fields) values[f] = param(ctx, f);
  const input: FilterInput = {};
  for (const f of ['since', 'until', 'group', 'category', 'kind', 'device', 'client', 'user'] as FilterField[]) {
    if (values[f]) input[f] = values[f];
  }
  const checked = checkFilter(input, {
    now: ctx.now,
    groups: Object.keys(ctx.env.loaded.config.groups),
    defaultSince,
  });
  return { filter: { ...checked.filter, limit: 500 }, values, errors: checked.errors as Record<string, string> };
}

/** Group names for a select, "" first (any). */
export function groupChoices(ctx: RequestContext): string[] {
  return ['', ...Object.keys(ctx.env.loaded.config.groups)];
}
