import { recordReview, ReviewRequestError } from '../../review/signal-review.js';
import type { SignalEntry } from '../../storage/review.js';
import { REVIEW_OUTCOMES, ReviewError } from '../../storage/signal-reviews.js';
import { formatShort } from '../../time/local-time.js';
import { messagePage, type Route } from '../app.js';
import type { RequestContext } from '../context.js';
import { html, type Html } from '../html.js';
import { redirect } from '../http.js';
import { readsOf } from '../reads.js';

/**
 * The review of a signal in the console: a small form in each signal row of the Signals and Device
 * pages (outcome and a note), posted with the session's CSRF token, recorded with an access-audit
 * row, then back to the page it came from. Any signed-in user may review: it changes no policy.
 */

/** Where a review form may send the browser back to: the page it was on, and nowhere else. */
function backTo(raw: string | null): string {
  const path = raw ?? '';
  return /^\/(signals|device)(\?[^\s\\]*)?$/.test(path) && !path.includes('//') ? path : '/signals';
}

/** The form (for an unreviewed signal) or the review with a form to change it. */
export function reviewCell(ctx: RequestContext, r: SignalEntry): Html {
  const back = ctx.url.pathname + ctx.url.search;
  const form = (label: string) =>
    html`<form method="post" action="/signals/${r.id}/review" class="review">
      <input type="hidden" name="_csrf" value="${ctx.session.csrf}" />
      <input type="hidden" name="back" value="${back}" />
      <select name="outcome" aria-label="Outcome of signal ${r.id}">
        ${REVIEW_OUTCOMES.map((o) => html`<option value="${o}" ${r.review?.outcome === o ? html`selected` : ''}>${o}</option>`)}
      </select>
      <input name="note" maxlength="1000" placeholder="note (what was done)" aria-label="Note for signal ${r.id}" />
      <button>${label}</button>
    </form>`;
  // Folded away until opened, so a signal row stays short on a phone.
  if (!r.review)
    return html`<details>
      <summary><span class="unreviewed">not reviewed</span></summary>
      ${form('Record review')}
    </details>`;
  return html`<b>${r.review.outcome}</b>${r.review.note ? html` — ${r.review.note}` : ''}
    <span class="muted">(${r.review.by}, ${formatShort(Date.parse(r.review.at))})</span>
    <details>
      <summary>change</summary>
      ${form('Change review')}
    </details>`;
}

async function postReview(ctx: RequestContext, match: string[]): Promise<void> {
  const id = Number(match[0]);
  try {
    // Through the reader's scope: a signal of a site outside it is "no such signal", as one that never existed.
    await recordReview(readsOf(ctx).signalReviews, {
      id,
      outcome: ctx.form.get('outcome') ?? '',
      note: ctx.form.get('note') ?? '',
      by: ctx.session.user,
      ip: ctx.ip,
      at: ctx.now,
    });
  } catch (e) {
    if (e instanceof ReviewRequestError) return messagePage(ctx, 400, 'Review not recorded', e.message);
    if (e instanceof ReviewError) return messagePage(ctx, 404, 'No such signal', e.message);
    throw e;
  }
  redirect(ctx.res, backTo(ctx.form.get('back')));
}

export const signalReviewRoutes: Route[] = [
  { method: 'POST', path: /^\/signals\/(\d{1,9})\/review$/, access: 'signals.review', handler: postReview },
];
