import type { LoadedConfig } from '../config/load.js';
import { TYPE } from '../dns/constants.js';
import type { ExceptionSet } from '../exceptions/exception-set.js';
import { evaluateNames, type BlockDecision } from '../verdict/evaluate-names.js';
import type { CompiledGroup, Policy } from '../policy/policy.js';
import { LocalRecords } from '../dns/local-records.js';
import { lookupLive } from '../upstream/lookup.js';
import { UpstreamRoutes } from '../upstream/routes.js';
import { plainUpstream } from '../config/upstream-spec.js';

/** What `check` found out about a name's live CNAME/DNAME/HTTPS chain. */
export interface ChainCheck {
  /** The chain names after the name asked ([] = none), or null when it was not looked up. */
  names: string[] | null;
  /** Upstream that answered. */
  upstream: string | null;
  /** One line of explanation for the output. */
  note: string;
  /** The first chain name the policy blocks (no exception opens it), and the path to it. */
  blocked: { name: string; decision: BlockDecision; via: string } | null;
}

/** Longest `check` waits for the upstreams, whatever upstream.timeout_ms says. */
const CHECK_TIMEOUT_MS = 2000;

/**
 * CNAME inspection for `webfilter check`: the daemon checks every name of a live answer's chain
 * (CNAME, DNAME, HTTPS/SVCB targets), which the config alone cannot know. So `check` asks the
 * configured upstreams now, as the daemon would, and runs the same `evaluate` on each name.
 */
export async function checkChain(
  loaded: LoadedConfig,
  policy: Policy,
  exceptions: ExceptionSet,
  group: CompiledGroup,
  address: string,
  qname: string,
  at: number,
  opts: { resolve: boolean; qtype: number },
): Promise<ChainCheck> {
  const unknown = 'a CNAME in the live answer to a blocked name would still be blocked (CNAME inspection)';
  if (!loaded.config.blocking.cname_inspection)
    return { names: null, upstream: null, note: 'not checked: blocking.cname_inspection is off', blocked: null };
  // Where the daemon would ask: a local record or special-use name never reaches an upstream.
  const route = new UpstreamRoutes(
    loaded.upstreams,
    loaded.zones.map((z) => ({ zone: z.zone, value: z.servers.map(plainUpstream) })),
  ).route(qname);
  if (route.kind === 'local' || new LocalRecords(loaded.config.local_records).get(qname))
    return { names: [], upstream: null, note: 'none: answered here, not by an upstream', blocked: null };
  if (!opts.resolve) return { names: null, upstream: null, note: `not looked up (--no-resolve): ${unknown}`, blocked: null };
  let live;
  try {
    live = await lookupLive(
      route.value,
      qname,
      opts.qtype,
      Math.min(CHECK_TIMEOUT_MS, loaded.config.upstream.timeout_ms),
      loaded.upstreamCa,
    );
  } catch (e) {
    return {
      names: null,
      upstream: null,
      note: `not known: the upstreams did not answer (${(e as Error).message}); ${unknown}`,
      blocked: null,
    };
  }
  const type = opts.qtype === TYPE.A ? '' : ` (${Object.entries(TYPE).find(([, n]) => n === opts.qtype)?.[0] ?? opts.qtype})`;
  if (live.chain.length === 0)
    return {
      names: [],
      upstream: live.upstream,
      note: `none: ${live.upstream}'s answer${type} has no CNAME, DNAME or HTTPS target`,
      blocked: null,
    };
  const path = [qname, ...live.chain];
  const { blocked } = evaluateNames(policy, exceptions, group, address, live.chain, at, () => null);
  if (blocked) {
    const via = path.slice(0, blocked.index + 2).join(' → ');
    return {
      names: live.chain,
      upstream: live.upstream,
      note: `${via}${type} (answer of ${live.upstream} now)`,
      blocked: { name: live.chain[blocked.index], decision: blocked.decision, via },
    };
  }
  return {
    names: live.chain,
    upstream: live.upstream,
    note: `${path.join(' → ')}${type} (answer of ${live.upstream} now): every name allowed`,
    blocked: null,
  };
}
