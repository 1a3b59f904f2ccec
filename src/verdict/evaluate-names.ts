import type { ExceptionSet } from '../exceptions/exception-set.js';
import type { CompiledGroup, Decision, Policy } from '../policy/policy.js';
import { evaluate } from './evaluate.js';

/** A decision that blocks. */
export type BlockDecision = Extract<Decision, { action: 'block' }>;

/** The policy on the names a query leads to besides its own (a CNAME chain, the site a proxy shows). */
export interface NamesVerdict {
  /** The first of the names that is blocked (no exception opens it), and why; null when none is. */
  blocked: { index: number; decision: BlockDecision } | null;
  /**
   * Milliseconds the answer may be kept: until an exception that opens one of the names ends, or the
   * next timetable change blocks one; Infinity when nothing ends sooner.
   */
  validMs: number;
}

/**
 * `evaluate` on each name, in order, with the client's policy now — the same rules as for the name
 * asked: group (as the timetable makes it), exceptions, locked categories. `upcoming` is the group's
 * next timetable change, asked only when a name is allowed.
 */
export function evaluateNames(
  policy: Policy,
  exceptions: ExceptionSet,
  group: CompiledGroup,
  address: string,
  names: readonly string[],
  now: number,
  upcoming: () => { group: CompiledGroup; at: number } | null,
): NamesVerdict {
  let validMs = Infinity;
  let next: { group: CompiledGroup; at: number } | null | undefined;
  for (let i = 0; i < names.length; i++) {
    const verdict = evaluate(policy, exceptions, group, address, names[i], now);
    const { decision } = verdict;
    if (decision.action === 'allow') {
      if (next === undefined) next = upcoming();
      if (next && policy.decide(next.group, names[i]).action !== 'allow') validMs = Math.min(validMs, next.at - now);
    } else if (verdict.exception) {
      validMs = Math.min(validMs, verdict.exception.record.expiresAt - now);
    } else {
      return { blocked: { index: i, decision }, validMs };
    }
  }
  return { blocked: null, validMs };
}
