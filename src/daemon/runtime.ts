import type { AnswerCache } from '../cache/answer-cache.js';
import type { LoadedConfig } from '../config/load.js';
import { compileBlockResponse } from '../pipeline/block-answer.js';
import { buildChain } from '../pipeline/chain.js';
import type { Next } from '../pipeline/types.js';
import type { ExceptionsHolder } from '../pipeline/policy-stage.js';
import { safeSearchRewrites } from '../safe-search/rewrites.js';
import type { Config } from '../config/schema.js';
import type { IdentityIndex } from '../identity/identity-index.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { ClientDirectory } from '../policy/clients.js';
import { Forwarder, type ExchangeObserver } from '../upstream/forwarder.js';
import type { UpstreamTransport, UpstreamTransports } from '../upstream/transports.js';
import { UpstreamRoutes } from '../upstream/routes.js';
import { LocalRecords } from '../dns/local-records.js';
import { plainUpstream, type UpstreamSpec } from '../config/upstream-spec.js';

/** Long-lived parts that survive a reload. */
export interface Shared {
  cache: AnswerCache;
  /** Every upstream's transport (plain over the shared UDP sockets, DoT, DoH): kept across reloads. */
  transports: UpstreamTransports;
  onExchange?: ExchangeObserver;
  /** Exceptions in force, replaced when the database changes (not by reloads). */
  exceptions: ExceptionsHolder;
  /** The policy's clock. */
  now: () => number;
  /** Who is at which address, kept by the identity service. */
  identities: IdentityIndex;
}

/**
 * Everything one config produces for the query path. A reload builds a new Runtime and swaps it in
 * whole; queries in flight finish with the one they started on.
 */
export interface Runtime {
  loaded: LoadedConfig;
  compiled: CompiledPolicy;
  /** The main upstreams' forwarder (the readiness probe asks it). */
  forwarder: Forwarder;
  routes: UpstreamRoutes<Forwarder>;
  /** Every upstream transport this runtime's forwarders use. */
  transports: UpstreamTransport[];
  chain: Next;
  /** Who may use the resolver and in which group; the TCP listener asks it at accept. */
  directory: ClientDirectory;
}

/** Builds a runtime from a loaded config and its compiled policy. */
export function buildRuntime(loaded: LoadedConfig, compiled: CompiledPolicy, shared: Shared): Runtime {
  const { config } = loaded;
  const defaultGroup = compiled.policy.groups.get('default')!;
  const directory = new ClientDirectory(config, compiled.policy.groups, defaultGroup);
  // Each zone is its own pool with the main upstreams' rules: failover/parallel, timeout, in-flight cap.
  // Transports come from the shared set, so encrypted connections outlive this runtime.
  const transports: UpstreamTransport[] = [];
  const pool = (servers: UpstreamSpec[]) =>
    new Forwarder(
      {
        servers: servers.map((s) => {
          const t = shared.transports.use(s, loaded.upstreamCa);
          transports.push(t);
          return t;
        }),
        strategy: config.upstream.strategy,
        timeoutMs: config.upstream.timeout_ms,
        maxInFlight: config.upstream.max_in_flight,
      },
      shared.onExchange,
    );
  const forwarder = pool(loaded.upstreams);
  const routes = new UpstreamRoutes(
    forwarder,
    loaded.zones.map((z) => ({ zone: z.zone, value: pool(z.servers.map(plainUpstream)) })),
  );
  shared.cache.setLimits({
    maxEntries: config.cache.max_entries,
    maxTtl: config.cache.max_ttl,
    maxNegativeTtl: config.cache.max_negative_ttl,
  });
  const chain = buildChain({
    directory,
    identities: shared.identities,
    policy: compiled.policy,
    timetable: compiled.timetable,
    blockResponse: compileBlockResponse(config.blocking.response),
    blockTtl: config.blocking.ttl,
    cache: shared.cache,
    routes,
    localRecords: new LocalRecords(config.local_records),
    exceptions: shared.exceptions,
    now: shared.now,
    safeSearch: safeSearchByGroup(config),
    cnameInspection: config.blocking.cname_inspection,
    webProxy: config.circumvention.web_proxy.enabled,
  });
  return { loaded, compiled, forwarder, routes, transports, chain, directory };
}

/** Safe-search rewrite maps for the groups that have safe_search on (one map per YouTube mode). */
function safeSearchByGroup(config: Config): Map<string, ReadonlyMap<string, string>> {
  const maps = { strict: safeSearchRewrites('strict'), moderate: safeSearchRewrites('moderate') };
  const out = new Map<string, ReadonlyMap<string, string>>();
  for (const [name, g] of Object.entries(config.groups)) if (g.safe_search.enabled) out.set(name, maps[g.safe_search.youtube]);
  return out;
}
