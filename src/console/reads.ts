import { SITE_RE } from '../config/shared-schema.js';
import { boxVisible, type ScopedReads } from '../storage/read-scope.js';
import type { ExceptionsRepository } from '../storage/exceptions.js';
import type { RequestsRepository } from '../storage/requests.js';
import { param, type RequestContext } from './context.js';
import { html, type Html } from './html.js';
import { refusedPage, type Route } from './app.js';
import { describeScope } from '../storage/scope.js';

/** The page's reads of the evidence and its site filter (`?site=`; "" when none, or on a single box). */
export interface PageReads extends ScopedReads {
  site: string;
  /** The sites the account may choose in the site filter ("" = all of their sites first); empty on a single box. */
  siteChoices: string[];
}

/**
 * The evidence as the signed-in account may see it, narrowed to the `site` query parameter when one
 * is given (only with `shared`). Every page that reads evidence reads through this: the repositories
 * it returns put the account's sites in every query.
 */
export function readsOf(ctx: RequestContext): PageReads {
  const config = ctx.env.loaded.config;
  // The signed-in account's scope as stored now (accounts: `user add --sites` / `--trust`).
  const scope = ctx.scope;
  const wanted = config.shared ? param(ctx, 'site') : '';
  // A malformed site name is no site: it matches nothing rather than widening the read.
  const site = wanted && SITE_RE.test(wanted) ? wanted : wanted ? '-' : '';
  const reads = ctx.env.storage.reads(site ? { scope, site } : { scope });
  const siteChoices = !reads.trustWide ? [] : scope.kind === 'sites' ? ['', ...scope.sites] : [];
  return { ...reads, site: wanted, siteChoices };
}

/** The site filter field of a page's form: only when the rows come from the shared store. */
export function siteFields(r: PageReads): { name: string; label: string; choices?: string[]; placeholder?: string }[] {
  if (!r.trustWide) return [];
  return [
    r.siteChoices.length > 0
      ? { name: 'site', label: 'Site', choices: r.siteChoices }
      : { name: 'site', label: 'Site', placeholder: 'any' },
  ];
}

/** `&site=…` for links from a page to another, keeping its site filter ("" when none). */
export function siteQuery(site: string | undefined): string {
  return site ? `&site=${encodeURIComponent(site)}` : '';
}

/**
 * This box's exceptions and permission requests (they are of its site: the shared store keeps each
 * site's), or empty ones when the read excludes the box's site, so the Overview and the report of a
 * reviewer of other sites never list this school's exceptions.
 */
export function boxInReads(ctx: RequestContext, reads: PageReads): BoxRecords {
  const config = ctx.env.loaded.config;
  const rs = reads.site ? { scope: ctx.scope, site: reads.site } : { scope: ctx.scope };
  return boxVisible(rs, config.site) ? ctx.env.storage : NO_BOX_RECORDS;
}

/** The reads of this box's exceptions and requests that the Overview and the report make. */
export interface BoxRecords {
  exceptions: Pick<ExceptionsRepository, 'current' | 'between'>;
  requests: Pick<RequestsRepository, 'list'>;
}

const NO_BOX_RECORDS: BoxRecords = {
  exceptions: { current: async () => [], between: async () => [] },
  requests: { list: async () => [] },
};

/** The site filter as one form control (a choice of the account's sites, or free text for the whole trust). */
export function siteControl(r: PageReads): Html {
  if (!r.trustWide) return html``;
  if (r.siteChoices.length === 0) return html`<label>Site <input name="site" value="${r.site}" placeholder="any" /></label>`;
  return html`<label
    >Site
    <select name="site">
      ${r.siteChoices.map((c) => html`<option value="${c}" ${c === r.site ? html`selected` : ''}>${c || 'any'}</option>`)}
    </select></label
  >`;
}

/**
 * A route of this filter's own site's records (its exceptions and permission requests: the shared
 * store keeps each site's, and this filter holds its site's), answered only for an account whose
 * scope holds that site; any other gets 403 and sees and changes nothing of them.
 */
export function ofThisSite(route: Route): Route {
  return {
    ...route,
    handler: (ctx, match) => {
      const site = ctx.env.loaded.config.site;
      if (boxVisible({ scope: ctx.scope }, site)) return route.handler(ctx, match);
      return refusedPage(
        ctx,
        `${ctx.session.user}'s account sees ${describeScope(ctx.scope)}, not ${site} (this filter's site): it can neither see nor change ${site}'s exceptions and requests. Use a console of your own site.`,
        'Not your site',
      );
    },
  };
}
