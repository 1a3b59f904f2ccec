import type { SignalEntry } from '../../storage/review.js';
import { pageUser } from '../app.js';
import type { RequestContext } from '../context.js';
import { fieldError, html, page, type Html, type PageUser } from '../html.js';
import { sendHtml } from '../http.js';
import type { ParsedFilter } from '../filters.js';

/** The signed-in user as the page header shows them. */
export function userOf(ctx: RequestContext): PageUser {
  return pageUser(ctx);
}

/**
 * Sends a filtered page: 400 when a filter field is bad (its message is shown beside the field),
 * else 200.
 */
export function sendFilteredPage(ctx: RequestContext, f: ParsedFilter, title: string, body: Html, nav?: string): void {
  sendHtml(ctx.res, Object.keys(f.errors).length ? 400 : 200, page(title, body, userOf(ctx), nav));
}

/**
 * Link to a device's page: by name when the device has one, else by address; with its site when the
 * row has one (the shared store: the same address or name may be in two schools).
 */
export function deviceLink(device: string, client: string, site?: string): Html {
  const s = site ? `&site=${encodeURIComponent(site)}` : '';
  return device
    ? html`<a href="/device?name=${encodeURIComponent(device)}${s}">${device}</a>`
    : html`<a href="/device?client=${encodeURIComponent(client)}${s}">${client}</a>`;
}

export interface FilterField {
  name: string;
  label: string;
  /** Choices for a select ("" = any); free text when absent. */
  choices?: string[];
  placeholder?: string;
}

/** The GET filter form of a list page, with each field's error next to it. */
export function filterForm(action: string, fields: FilterField[], f: ParsedFilter): Html {
  return html`<form class="filters" method="get" action="${action}">
    ${fields.map(
      (fd) =>
        html`<label
          >${fd.label}${
            fd.choices
              ? html`<select name="${fd.name}">
                  ${fd.choices.map((c) => html`<option value="${c}" ${c === f.values[fd.name] ? html`selected` : ''}>${c || 'any'}</option>`)}
                </select>`
              : html`<input
                  name="${fd.name}"
                  value="${f.values[fd.name] ?? ''}"
                  placeholder="${fd.placeholder ?? ''}"
                  aria-describedby="${fd.name}-error"
                />`
          }${fieldError(f.errors, fd.name)}</label
        >`,
    )}
    <button class="primary">Show</button>
  </form>`;
}

export const TIME_FIELDS: FilterField[] = [
  { name: 'since', label: 'Since', placeholder: '7d, 24h or 2026-11-20' },
  { name: 'until', label: 'Until', placeholder: 'now' },
];

/** The columns saying what a circumvention signal was (after who and when). */
export const SIGNAL_COLUMNS: Record<string, (r: SignalEntry) => unknown> = {
  Kind: (r) => r.kind,
  Severity: (r) => html`<span class="sev-${r.severity}">${r.severity}</span>`,
  Count: (r) => r.count,
  Domain: (r) => r.domain,
  'First name': (r) => r.qname,
  Detail: (r) => r.detail,
};
