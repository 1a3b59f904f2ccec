/**
 * Which sites' records an account may see (issue 17). A role says *what* someone may do; the scope
 * says *whose* records: the repositories take it on every read and put it in their queries' WHERE
 * clause, so a page, an export, a report or a CLI read can never return another site's rows, whatever
 * link or URL was used. On a single box (no `shared`) every account's scope is the box's own store.
 */
export type SiteScope = { readonly kind: 'trust' } | { readonly kind: 'sites'; readonly sites: readonly string[] };

/** The whole trust: every site in the shared store. */
export const TRUST_SCOPE: SiteScope = { kind: 'trust' };

/** Only these sites (never empty: an account with no site sees nothing and is refused at creation). */
export function sitesScope(sites: readonly string[]): SiteScope {
  if (sites.length === 0) throw new Error('a site scope names at least one site');
  return { kind: 'sites', sites: [...new Set(sites)].sort() };
}

/** Whether a record of `site` is inside `scope`. */
export function scopeIncludes(scope: SiteScope, site: string): boolean {
  return scope.kind === 'trust' || scope.sites.includes(site);
}

/** "the whole trust" / "sites a, b": for audit rows, `user list` and the console's header. */
export function describeScope(scope: SiteScope): string {
  return scope.kind === 'trust' ? 'the whole trust' : `site${scope.sites.length === 1 ? '' : 's'} ${scope.sites.join(', ')}`;
}

/**
 * Why `who`, whose account sees `scope`, may not change the records of `site` (this filter's
 * exceptions, its permission requests), or null when they may. Filters sharing a store each hold
 * one site's exceptions and requests: an account scoped to other sites may read nothing of them
 * and change nothing of them, from the console or the CLI.
 */
export function outsideScope(who: string, scope: SiteScope | undefined, site: string | undefined): string | null {
  if (!scope || site === undefined || scopeIncludes(scope, site)) return null;
  return `${who}'s account sees ${describeScope(scope)}, not ${site} (this filter's site): it cannot change ${site}'s exceptions or requests`;
}
