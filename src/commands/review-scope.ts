import type { Argv } from 'yargs';
import type { LoadedConfig } from '../config/load.js';
import { SITE_RE } from '../config/shared-schema.js';
import type { ScopedReads } from '../storage/read-scope.js';
import { describeScope, scopeIncludes, sitesScope, TRUST_SCOPE, type SiteScope } from '../storage/scope.js';
import type { Storage } from '../storage/storage.js';
import { SharedUnavailableError } from '../storage/shared-errors.js';
import type { ReviewRepository } from '../storage/review.js';
import { CommandError, UsageError } from './errors.js';
import { auditRefusal, signedInAccount } from './cli-account.js';
import { actor } from './context.js';

/**
 * Whose evidence a review command reads (issue 17). On a single box: the box's own store, as
 * always. With `shared`, the trust's store in PostgreSQL, and a person with a shell on a filter is
 * not thereby a reviewer of the whole trust:
 *  - by default, this box's site only (its filters' rows: the school whose filter this is);
 *  - another site (`--site S`) or the whole trust (`--trust`) only as a console account of the
 *    shared store (`--account NAME`, its password asked on the terminal or read from stdin with
 *    `--password-stdin`) whose role sees the evidence and whose scope holds it; with `--account`
 *    alone, that account's whole scope;
 *  - `--local`: this box's own store, as on a single box (e.g. while PostgreSQL is unreachable).
 */
export interface ScopeFlags {
  site?: string;
  trust?: boolean;
  account?: string;
  'password-stdin'?: boolean;
  local?: boolean;
}

/** The flags of every review command that reads evidence. */
export function scopeOptions<T>(y: Argv<T>) {
  return y
    .option('site', { type: 'string', describe: 'With shared: only this site (another site than this box’s needs --account)' })
    .option('trust', { type: 'boolean', describe: 'With shared: every site (needs --account of a trust-wide reviewer)' })
    .option('account', { type: 'string', describe: 'With shared: read as this console account (asks its password)' })
    .option('password-stdin', { type: 'boolean', describe: 'Read --account’s password from stdin (for scripts)' })
    .option('local', { type: 'boolean', describe: 'With shared: this box’s own store only (e.g. while PostgreSQL is down)' });
}

/** The reads a review command makes, and what they cover (for a note on stderr). */
export interface CommandReads extends ScopedReads {
  covers: string;
}

/** The evidence a review command may read, by the rules above. */
export async function commandReads(loaded: LoadedConfig, store: Storage, a: ScopeFlags, what: string): Promise<CommandReads> {
  const { config } = loaded;
  const box = config.site;
  const wide = a.site !== undefined || a.trust || a.account !== undefined;
  if (!config.shared || !box) {
    if (wide) throw new UsageError('--site, --trust and --account are for filters with shared set (see "Several filters")');
    return { ...store.reads({ scope: TRUST_SCOPE }), covers: 'this filter' };
  }
  if (a.local) {
    if (wide) throw new UsageError('--local reads this box’s own store: give it without --site, --trust or --account');
    return {
      review: store.review,
      signalReviews: store.signalReviews,
      trustWide: false,
      covers: `this filter (${config.node}) only`,
    };
  }
  if (a.site !== undefined && !SITE_RE.test(a.site)) throw new UsageError(`--site "${a.site}": not a site name`);
  if (a.site !== undefined && a.trust) throw new UsageError('give --site or --trust, not both');
  let scope = sitesScope([box]);
  if (a.account !== undefined)
    scope = (await signedInAccount(store, a.account, a['password-stdin'] === true, config, 'evidence', what)).scope;
  else if (a.trust || (a.site !== undefined && a.site !== box)) {
    await auditRefusal(store, actor(), what, `${a.trust ? '--trust' : `--site ${a.site}`} without --account`);
    throw new UsageError(
      `${a.trust ? '--trust' : `--site ${a.site}`} reads beyond this filter's site (${box}): give --account NAME, a console account whose scope holds it`,
    );
  }
  if (a.trust && scope.kind !== 'trust')
    throw new CommandError(`--account ${a.account} may see ${describeScope(scope)}, not the whole trust`);
  if (a.site !== undefined && !scopeIncludes(scope, a.site))
    throw new CommandError(`--account ${a.account ?? ''} may see ${describeScope(scope)}, not site ${a.site}`.replace('  ', ' '));
  const reads = store.reads(a.site !== undefined ? { scope, site: a.site } : { scope });
  return {
    ...reads,
    review: pointingToLocal(reads.review, config.node),
    covers: a.site !== undefined ? `site ${a.site}` : describeScope(scope),
  };
}

/**
 * The review reads with one addition: when PostgreSQL cannot be reached, the error also says what
 * still works (the README's way during an outage: `--local`, this box's own file), instead of
 * leaving the reader at "could not read blocked attempts".
 */
function pointingToLocal(review: ReviewRepository, node: string): ReviewRepository {
  const hint = (e: unknown): never => {
    if (e instanceof SharedUnavailableError)
      throw new CommandError(
        `${e.message}\nThe evidence of every filter is read from the trust's shared store. This filter's (${node}) own ` +
          'copy can still be read: run the same command with --local. DNS filtering is unaffected.',
      );
    throw e;
  };
  return new Proxy(review, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const r: unknown = (v as (...x: unknown[]) => unknown).apply(target, args);
        return r instanceof Promise ? r.catch(hint) : r;
      };
    },
  });
}
