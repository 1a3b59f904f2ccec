import { esc } from '../review/report-render.js';
import type { Permission } from '../roles/roles.js';

/**
 * HTML built only through the `html` tag: every interpolated value is escaped unless it is itself
 * Html (a fragment built the same way). Nothing a user or a DNS client typed can become markup.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

function render(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return esc(v);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/**
 * Columns that hold DNS names (and lists of them): the only text a table may break inside a word,
 * since a name can be longer than a phone's screen. Everything else wraps between words only.
 */
const NAME_COLUMNS = new Set(['Name', 'Domain', 'First name', 'Entry', 'Via', 'Site']);

/**
 * A table from rows; `cell` may return Html (e.g. links) or plain values (escaped). Each cell carries
 * its column's name (`data-label`): on a phone the rows become stacked cards, one labelled line per
 * cell, instead of columns squeezed a few letters wide.
 */
export function dataTable<T>(
  rows: readonly T[],
  columns: Record<string, (r: T) => unknown>,
  empty = 'Nothing in this period.',
): Html {
  if (rows.length === 0) return html`<p class="none">${empty}</p>`;
  const heads = Object.keys(columns);
  return html`<div class="scroll">
    <table>
      <thead>
        <tr>
          ${heads.map((h) => html`<th>${h}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr>
              ${heads.map((h) => html`<td data-label="${h}" class="${NAME_COLUMNS.has(h) ? 'dns' : ''}">${columns[h](r)}</td>`)}
            </tr> `,
        )}
      </tbody>
    </table>
  </div>`;
}

/** A form field's error message, shown next to it. */
export function fieldError(errors: Record<string, string>, field: string): Html {
  return errors[field] ? html`<span class="error" id="${field}-error">${errors[field]}</span>` : html``;
}

const CSS = `
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg2:#f6f8fa;--accent:#0969da;--bad:#cf222e;--warn:#9a6700}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg)}
header{background:#24292f;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}
header b{margin-right:1rem}header nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem}header a{color:#fff;text-decoration:none;padding:.15rem 0}
header a.on{border-bottom:2px solid #fff}header .who{margin-left:auto;display:flex;gap:.6rem;align-items:center;font-size:.9rem}
header form{margin:0}header button{background:none;border:1px solid #8c959f;color:#fff;border-radius:4px;padding:.1rem .5rem;cursor:pointer}
main{max-width:72rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
a{color:var(--accent)}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-size:.92rem}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:var(--bg2)}td{overflow-wrap:normal;hyphens:none}td.dns{overflow-wrap:anywhere}
.none{color:var(--muted);font-style:italic}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:.5rem 0 1rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:9rem}.card b{display:block;font-size:1.6rem}
a.card{color:inherit;text-decoration:none}.card.attention{border-color:var(--warn);background:#fff8c5}.unreviewed{color:var(--warn);font-weight:600}
form.review{display:flex;flex-direction:column;align-items:flex-start;gap:.3rem;margin:.2rem 0}form.review input{width:100%;min-width:0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:0 1.5rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;background:var(--bg2);padding:.6rem .8rem;border-radius:6px}
label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted);gap:.1rem}input,select,textarea{font:inherit;padding:.25rem .4rem;border:1px solid var(--line);border-radius:4px;color:var(--fg)}
button.primary{background:var(--accent);color:#fff;border:0;border-radius:4px;padding:.35rem .9rem;font:inherit;cursor:pointer}
button.danger{background:#fff;color:var(--bad);border:1px solid var(--bad);border-radius:4px;padding:.2rem .6rem;cursor:pointer}
.error{color:var(--bad);font-size:.85rem}.flash{padding:.5rem .8rem;border-radius:6px;margin:.5rem 0;background:#dafbe1;border:1px solid #4ac26b}
.flash.bad{background:#ffebe9;border-color:#ff8182}.sev-high{color:var(--bad);font-weight:600}.sev-medium{color:var(--warn);font-weight:600}
form.stack{display:grid;gap:.6rem;max-width:34rem}form.decide{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:0}.chart{max-width:100%;height:auto}.chart .b{fill:#0969da}.chart .s{fill:#cf222e}.chart text{font-size:10px;fill:#57606a}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .8rem;vertical-align:-1px}.muted{color:var(--muted)}
.login{max-width:22rem;margin:4rem auto;padding:1.5rem;border:1px solid var(--line);border-radius:8px}
@media (max-width:40rem){main{padding:.6rem}header .who{margin-left:0}
.scroll{overflow-x:visible}table,tbody,tr,td{display:block;width:100%}thead{display:none}
tr{border:1px solid var(--line);border-radius:6px;margin:0 0 .5rem;padding:.2rem .4rem}
td{border:0;padding:.05rem 0}td::before{content:attr(data-label);display:inline-block;min-width:6.5rem;margin-right:.5rem;color:var(--muted);font-size:.85rem}
.card{flex:1 1 auto}}
@media print{header,form.filters,form.stack,form.review,button{display:none}main{max-width:none;padding:0}a{color:inherit;text-decoration:none}table{break-inside:auto}tr{break-inside:avoid}}
`;

export interface PageUser {
  user: string;
  role: string;
  csrf: string;
  /** Whether the user's role has a permission (the navigation shows only what they may open). */
  may: (p: Permission) => boolean;
}

/** Each page of the navigation, with the permissions that open it (any one). */
const NAV: [href: string, label: string, needs: Permission[]][] = [
  ['/', 'Overview', ['evidence']],
  ['/signals', 'Signals', ['evidence']],
  ['/blocked', 'Blocked attempts', ['evidence']],
  ['/devices', 'Devices', ['evidence']],
  ['/requests', 'Requests', ['requests.make', 'requests.view', 'requests.decide']],
  ['/exceptions', 'Exceptions', ['exceptions.view']],
  ['/reports', 'Reports', ['evidence']],
  ['/audit', 'Audit', ['audit']],
];

/** The whole page: header with navigation and the signed-in user, then the body. */
export function page(title: string, body: Html, user: PageUser | null, active = ''): Html {
  const header = user
    ? html`<header>
        <b>webfilter</b>
        <nav>
          ${NAV.filter(([, , needs]) => needs.some((p) => user.may(p))).map(
            ([href, label]) => html`<a href="${href}" class="${href === active ? 'on' : ''}">${label}</a>`,
          )}
        </nav>
        <span class="who"
          >${user.user} (${user.role})
          <form method="post" action="/logout">
            <input type="hidden" name="_csrf" value="${user.csrf}" /><button>Sign out</button>
          </form></span
        >
      </header>`
    : html`<header><b>webfilter</b></header>`;
  return html`<!doctype html>
    <html lang="en-GB">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · webfilter</title>
        <style>
          ${new Html(CSS)}
        </style>
      </head>
      <body>
        ${header}
        <main>${body}</main>
      </body>
    </html> `;
}
