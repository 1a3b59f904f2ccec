import type { LoadedConfig } from '../config/load.js';
import { SITE_RE } from '../config/shared-schema.js';
import { describeScope, sitesScope, TRUST_SCOPE, type SiteScope } from '../storage/scope.js';
import type { User } from '../storage/accounts.js';
import { CommandError } from './errors.js';

/** `--sites` / `--trust` as yargs parses them. */
export interface ScopeArgs {
  sites?: string[];
  trust?: boolean;
}

/** The yargs options of a scope (user add, user scope). */
export const SCOPE_OPTIONS = {
  sites: {
    type: 'string',
    array: true,
    describe:
      "Filters sharing a store: the sites (schools) this account sees (comma-separated or repeated). Default: this filter's own site",
  },
  trust: { type: 'boolean', describe: 'Filters sharing a store: this account sees every site of the trust' },
} as const;

/**
 * The scope `--sites a,b` or `--trust` asks for, or `fallback` when neither is given (`user add`:
 * this filter's own site). Refuses both at once, an empty or malformed site list, and either flag
 * on a filter that shares no store (its accounts see its own records only).
 */
export function scopeOption(a: ScopeArgs, loaded: LoadedConfig, fallback: 'own-site' | 'required'): SiteScope | null {
  const given = a.sites !== undefined || a.trust === true;
  if (!loaded.config.shared) {
    if (given)
      throw new CommandError(
        `${a.trust ? '--trust' : '--sites'}: this filter shares no store (no shared: in the config), so its accounts see ` +
          "this filter's own records only; sites are for filters that share one (see README: Several filters)",
      );
    if (fallback === 'required') throw new CommandError('user scope is for filters that share a store (shared: in the config)');
    return null;
  }
  if (a.sites !== undefined && a.trust) throw new CommandError('give --sites or --trust, not both');
  if (a.trust) return TRUST_SCOPE;
  if (a.sites === undefined) {
    if (fallback === 'required') throw new CommandError('give --sites SITE[,SITE…] or --trust');
    return sitesScope([loaded.config.site!]);
  }
  const sites = a.sites
    .flatMap((s) => String(s).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (sites.length === 0)
    throw new CommandError('--sites names at least one site (e.g. --sites carres-grammar,kshs), or give --trust');
  const bad = sites.filter((s) => !SITE_RE.test(s));
  if (bad.length > 0)
    throw new CommandError(
      `--sites: ${bad.map((s) => `"${s}"`).join(', ')} ${bad.length === 1 ? 'is not a site name' : 'are not site names'} (a-z, 0-9, - and _, as in each filter's site:)`,
    );
  return sitesScope(sites);
}

/** How `user list` shows an account's scope: on a single box every account sees this filter's records. */
export function scopeText(u: User, loaded: LoadedConfig): string {
  return loaded.config.shared ? describeScope(u.scope) : 'this filter';
}
