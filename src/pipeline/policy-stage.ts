import { inspectReply } from '../dns/reply.js';
import type { ParsedQuery } from '../dns/query.js';
import type { ExceptionSet } from '../exceptions/exception-set.js';
import type { CategoryInfo } from '../policy/categories.js';
import { evaluate } from '../verdict/evaluate.js';
import type { Policy } from '../policy/policy.js';
import type { Timetable } from '../policy/timetable.js';
import { blockedAnswer, nodataAnswer, nxdomainAnswer, type BlockResponse, type Synthesised } from './block-answer.js';
import type { Answer, Stage } from './types.js';

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
 * end at the change.
 */
export function policyStage(
  policy: Policy,
  timetable: Timetable,
  response: BlockResponse,
  ttl: number,
  exceptions: ExceptionsHolder,
  now: () => number = Date.now,
): Stage {
  const answerFor = (raw: Buffer, q: ParsedQuery, category: CategoryInfo): Synthesised => {
    if (category.answer === 'nxdomain') return nxdomainAnswer(raw, q, ttl);
    if (category.answer === 'nodata') return nodataAnswer(raw, q, ttl);
    return blockedAnswer(raw, q, response, ttl);
  };
  return (ctx, next) => {
    const t = now();
    const group = timetable.effective(ctx.client!.group, t);
    const v = evaluate(policy, exceptions.current, group, ctx.address, ctx.q.qname, t);
    const { decision } = v;
    if (decision.action === 'allow') {
      // A name the timetable will block at its next change must not outlive the change in a device's cache.
      const upcoming = timetable.upcoming(ctx.client!.group, t);
      if (!upcoming || policy.decide(upcoming.group, ctx.q.qname).action === 'allow') return next(ctx);
      const left = Math.max(1, Math.floor((upcoming.at - t) / 1000));
      const cap = (a: Answer): Answer => {
        if (a.kind === 'forwarded' || a.kind === 'cached') capTtls(a.wire, ctx.q.questionEnd, left);
        return a;
      };
      const result = next(ctx);
      return result instanceof Promise ? result.then(cap) : cap(result);
    }
    if (!v.exception) {
      const { wire, response: said } = answerFor(ctx.raw, ctx.q, decision.category);
      return {
        wire,
        kind: 'blocked',
        reason: decision.category.name,
        entry: decision.entry,
        response: said,
        category: decision.category,
      };
    }
    const left = Math.max(1, Math.floor((v.exception.record.expiresAt - t) / 1000));
    const mark = (a: Answer): Answer => {
      if (a.kind !== 'forwarded' && a.kind !== 'cached') return a;
      capTtls(a.wire, ctx.q.questionEnd, left);
      return { ...a, kind: 'exception', reason: v.opened!.name, entry: `exception ${v.exception!.record.id}` };
    };
    const result = next(ctx);
    return result instanceof Promise ? result.then(mark) : mark(result);
  };
}

/** Lowers every TTL in `wire` (in place) to at most `max` seconds. */
function capTtls(wire: Buffer, questionEnd: number, max: number): void {
  for (const off of inspectReply(wire, questionEnd).ttlOffsets) {
    if (wire.readUInt32BE(off) > max) wire.writeUInt32BE(max, off);
  }
}
