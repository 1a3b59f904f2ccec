import type { ExceptionSet } from '../exceptions/exception-set.js';
import { evaluate, type Verdict } from '../verdict/evaluate.js';
import { evaluateNames } from '../verdict/evaluate-names.js';
import { decodeProxyName } from '../verdict/proxy-names.js';
import type { Policy } from '../policy/policy.js';
import type { Timetable } from '../policy/timetable.js';
import { categoryAnswer, type BlockResponse } from './block-answer.js';
import { declareStage, thenAnswer, type Answer, type QueryContext, type Stage } from './types.js';

/** Where the policy stage finds the exceptions in force; replaced whenever the database changes. */
export interface ExceptionsHolder {
  current: ExceptionSet;
}

/**
 * Applies the client's group policy and its exceptions (see evaluate). A blocked name gets the
 * configured synthesised answer; the circumvention answer rules get their fixed steering answers
 * (NXDOMAIN for the DoH canary and Private Relay, NODATA for DDR). A name an exception opens goes
 * on to the cache and upstream, and its TTLs are capped at the time the exception has left, so
 * devices stop using it when the exception ends. The group's blocked categories are those the
 * timetable says apply now; an allowed name that the next timetable change will block gets TTLs that
 * end at the change. Leaves the effective group and the time on the context for later stages
 * (CNAME inspection decides by the same ones).
 *
 * A name let through that is a web proxy's name for another site (`www-facebook-com.translate.goog`,
 * see verdict/proxy-names.ts) is decided again by the site it shows, with the same policy: blocked
 * there, it gets the block answer for the site's category, recorded with `via` and a `web-proxy`
 * signal (`webProxy`: circumvention.web_proxy.enabled). A name blocked by a list entry marked
 * `# front-end` (xcancel.com for X) is recorded as the platform's blocked attempt and, with
 * `webProxy`, as a `web-proxy` signal too.
 */
export function policyStage(
  policy: Policy,
  timetable: Timetable,
  response: BlockResponse,
  ttl: number,
  exceptions: ExceptionsHolder,
  now: () => number = Date.now,
  webProxy = true,
): Stage {
  return declareStage({ name: 'policy', needs: ['client'], gives: ['group'] }, (ctx, next) => {
    const t = now();
    const group = timetable.effective(ctx.client!.group, t);
    ctx.group = group;
    ctx.at = t;
    const v = evaluate(policy, exceptions.current, group, ctx.address, ctx.q.qname, t);
    const { decision } = v;
    if (webProxy && (decision.action === 'allow' || v.exception)) {
      const proxied = decodeProxyName(ctx.q.qname);
      if (proxied) {
        const shown = evaluateNames(policy, exceptions.current, group, ctx.address, proxied.hosts, t, () =>
          timetable.upcoming(ctx.client!.group, t),
        );
        if (shown.blocked) {
          const { category, entry } = shown.blocked.decision;
          const { wire, response: said } = categoryAnswer(ctx.raw, ctx.q, category, response, ttl);
          return {
            wire,
            kind: 'blocked',
            reason: category.name,
            entry,
            response: said,
            category,
            signal: 'web-proxy',
            via: [ctx.q.qname, ...proxied.hosts.slice(0, shown.blocked.index + 1)].join(' → '),
          };
        }
        if (shown.validMs < Infinity) capTtl(ctx, shown.validMs);
      }
    }
    if (decision.action === 'allow') {
      // A name the timetable will block at its next change must not outlive the change in a device's cache.
      const upcoming = timetable.upcoming(ctx.client!.group, t);
      if (upcoming && policy.decide(upcoming.group, ctx.q.qname).action !== 'allow') capTtl(ctx, upcoming.at - t);
      return next(ctx);
    }
    if (!v.exception) {
      const { category, entry } = decision;
      const { wire, response: said } = categoryAnswer(ctx.raw, ctx.q, category, response, ttl);
      const blocked: Answer = { wire, kind: 'blocked', reason: category.name, entry, response: said, category };
      // A platform's alternative front-end (its list marks the entry) is a way round the block too.
      if (webProxy && category.signal === null && category.frontEnds?.has(entry)) blocked.signal = 'web-proxy';
      return blocked;
    }
    capTtl(ctx, v.exception.record.expiresAt - t);
    return thenAnswer(next(ctx), markException, v);
  });
}

/** A forwarded or cached answer let through by an exception is recorded as the exception's. */
function markException(a: Answer, v: Verdict): Answer {
  if (a.kind !== 'forwarded' && a.kind !== 'cached') return a;
  return { ...a, kind: 'exception', reason: v.opened!.name, entry: `exception ${v.exception!.record.id}` };
}

/** Lowers the answer's TTL cap to the whole seconds left of `ms` (at least 1). */
export function capTtl(ctx: QueryContext, ms: number): void {
  const left = Math.max(1, Math.floor(ms / 1000));
  if (ctx.ttlCap === undefined || left < ctx.ttlCap) ctx.ttlCap = left;
}
