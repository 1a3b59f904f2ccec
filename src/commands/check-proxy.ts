import type { ExceptionSet } from '../exceptions/exception-set.js';
import type { CompiledGroup, Policy } from '../policy/policy.js';
import { evaluateNames, type BlockDecision } from '../verdict/evaluate-names.js';
import { decodeProxyName, type ProxyPath } from '../verdict/proxy-names.js';

/** What `check` says about a web proxy's name: the site it shows, and whether the policy blocks it. */
export interface ProxyCheck {
  path: ProxyPath;
  /** Lines for the output, one per proxy. */
  lines: string[];
  /** The first site blocked (no exception opens it), and the path to it. */
  blocked: { name: string; decision: BlockDecision; via: string } | null;
}

/**
 * The daemon's proxy rule (pipeline/policy-stage.ts) for `webfilter check`: decode the name with the
 * same decoders and decide the sites it shows with the same policy. Null for a name of no proxy.
 */
export function checkProxy(
  policy: Policy,
  exceptions: ExceptionSet,
  group: CompiledGroup,
  address: string,
  qname: string,
  at: number,
): ProxyCheck | null {
  const path = decodeProxyName(qname);
  if (!path) return null;
  const lines = path.hosts.map(
    (host, i) => `  proxy:     ${i === 0 ? qname : path.hosts[i - 1]} is ${path.services[i]} showing ${host}`,
  );
  const { blocked } = evaluateNames(policy, exceptions, group, address, path.hosts, at, () => null);
  if (!blocked) {
    lines.push(`  proxy:     ${path.hosts[path.hosts.length - 1]} is allowed for ${group.name}: so is the proxy`);
    return { path, lines, blocked: null };
  }
  const via = [qname, ...path.hosts.slice(0, blocked.index + 1)].join(' → ');
  return { path, lines, blocked: { name: path.hosts[blocked.index], decision: blocked.decision, via } };
}
