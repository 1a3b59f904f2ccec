import { underDomain, type ActiveException, type ExceptionSet } from '../exceptions/exception-set.js';
import { ALLOW, type CompiledGroup, type Decision, type Policy } from '../policy/policy.js';
import type { CategoryInfo } from '../policy/categories.js';

/** The policy's whole answer for one name and client: the block decision and any exception that opens it. */
export interface Verdict {
  decision: Decision;
  /** Set when the name was blocked and an exception lets it through. */
  exception: ActiveException | null;
  /** The category the exception opened (the block that would otherwise apply). */
  opened: CategoryInfo | null;
}

/** The verdict of every allowed name: one shared object, so the common case allocates nothing. */
const ALLOWED: Verdict = Object.freeze({ decision: ALLOW, exception: null, opened: null });

/**
 * Decides a query: the group's block decision, then exceptions. Used by the daemon's policy stage
 * and by `webfilter check`, so the CLI explains exactly what the daemon does.
 *
 * An exception for categories removes them from the group's blocked set and decides again, so a
 * name also listed in a category the exception does not cover stays blocked. A domain exception
 * opens the name whatever ordinary category blocks it. Locked categories are never opened.
 */
export function evaluate(
  policy: Policy,
  exceptions: ExceptionSet,
  group: CompiledGroup,
  address: string,
  qname: string,
  now: number,
): Verdict {
  const decision = policy.decide(group, qname);
  if (decision.action === 'allow') return decision === ALLOW ? ALLOWED : { decision, exception: null, opened: null };
  if (decision.category.locked) return { decision, exception: null, opened: null };
  const applicable = exceptions.applicable(group.name, address, now);
  if (applicable.length === 0) return { decision, exception: null, opened: null };

  const byDomain = applicable.find((e) => e.record.domains.some((d) => underDomain(qname, d)));
  if (byDomain) {
    const lockedOnly = policy.decideMask(policy.lockedMask(group.blockMask), qname);
    if (lockedOnly.action === 'block') return { decision: lockedOnly, exception: null, opened: null };
    return { decision, exception: byDomain, opened: decision.category };
  }
  const covering = applicable.find((e) => e.categories.has(decision.category.name));
  if (!covering) return { decision, exception: null, opened: null };
  const opened = new Set(applicable.flatMap((e) => [...e.categories]));
  const again = policy.decideMask(policy.withoutCategories(group.blockMask, opened), qname);
  if (again.action === 'block') return { decision: again, exception: null, opened: null };
  return { decision, exception: covering, opened: decision.category };
}
