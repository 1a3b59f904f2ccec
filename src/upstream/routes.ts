import { SPECIAL_USE_ZONES } from '../dns/special-use.js';
import { SuffixMap } from '../dns/suffix-map.js';

/** Where a name's queries go: the main upstreams, a conditional-forwarding zone's servers, or nowhere. */
export type Route<T> =
  | { readonly kind: 'main'; readonly value: T }
  | { readonly kind: 'zone'; readonly zone: string; readonly value: T }
  /** A special-use name or private reverse zone that no configured zone forwards: answered NXDOMAIN here. */
  | { readonly kind: 'local'; readonly zone: string; readonly why: string };

/**
 * The routing of names to upstream sets, compiled at load: the longest `upstream.zones` entry a
 * name is in wins; a name in no configured zone but in a special-use zone (special-use.ts) stays
 * here; everything else goes to the main upstreams. `T` is what a set is: a Forwarder in the daemon,
 * the server list in `webfilter check` and the evidence writer.
 */
export class UpstreamRoutes<T> {
  /**
   * Configured zones and the special-use zones in one map, so a lookup is one pass. A special-use
   * zone at or under a configured zone is left out: the configured zone forwards it (a zone for
   * `10.in-addr.arpa` or `in-addr.arpa` sends 10.x PTRs to the school's servers). A configured zone
   * under a special-use one (`school.local` under `local`) is longer, so it wins by length.
   */
  private readonly zones = new SuffixMap<Route<T>>();
  readonly main: Route<T>;

  constructor(main: T, zones: readonly { zone: string; value: T }[]) {
    this.main = { kind: 'main', value: main };
    for (const z of zones) this.zones.set(z.zone, { kind: 'zone', zone: z.zone, value: z.value });
    const configured = new SuffixMap<true>();
    for (const z of zones) configured.set(z.zone, true);
    for (const [zone, why] of SPECIAL_USE_ZONES) {
      if (!configured.longest(zone)) this.zones.set(zone, { kind: 'local', zone, why });
    }
  }

  /** The route of `qname` (lower-case, no trailing dot). Returns a shared object: no allocation. */
  route(qname: string): Route<T> {
    return this.zones.longest(qname) ?? this.main;
  }
}
