import type { AnswerCache } from '../cache/answer-cache.js';
import type { IdentityIndex } from '../identity/identity-index.js';
import type { ClientDirectory } from '../policy/clients.js';
import type { Policy } from '../policy/policy.js';
import type { Timetable } from '../policy/timetable.js';
import type { LocalRecords } from '../dns/local-records.js';
import type { Forwarder } from '../upstream/forwarder.js';
import type { UpstreamRoutes } from '../upstream/routes.js';
import type { BlockResponse } from './block-answer.js';
import { anyStage } from './any-stage.js';
import { localStage } from './local-stage.js';
import { cacheStage } from './cache-stage.js';
import { chainInspectionStage } from './chain-inspection-stage.js';
import { clientStage } from './client-stage.js';
import { policyStage, type ExceptionsHolder } from './policy-stage.js';
import { upstreamStage } from './upstream-stage.js';
import { safeSearchStage } from './safe-search-stage.js';
import { compose, type Next } from './types.js';

export interface ChainParts {
  directory: ClientDirectory;
  /** Who is at which address (RADIUS accounting, identity feed); outlives reloads. */
  identities: IdentityIndex;
  policy: Policy;
  timetable: Timetable;
  blockResponse: BlockResponse;
  blockTtl: number;
  cache: AnswerCache;
  /** Names → upstream sets (main upstreams, `upstream.zones` pools, special-use names kept here). */
  routes: UpstreamRoutes<Forwarder>;
  localRecords: LocalRecords;
  exceptions: ExceptionsHolder;
  now: () => number;
  /** Group → safe-search rewrites, for groups with safe_search. */
  safeSearch: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** blocking.cname_inspection */
  cnameInspection: boolean;
  /** circumvention.web_proxy.enabled: proxy names decided by the site they show. */
  webProxy: boolean;
}

/**
 * The query path, declared once. The server edge runs before this chain: it admits the packet
 * (per-client rate limit, before any parsing so a flood is cheap to shed) and parses it, so every
 * stage here sees a well-formed query from a client within its rate.
 */
export function buildChain(p: ChainParts): Next {
  return compose([
    // 1. Who is asking: refuse outsiders first, before any work is spent on them; the group found
    //    here (the user's, when one is known and configured, else the address's) is what the policy decides by.
    clientStage(p.directory, p.identities, p.now),
    // 2. Policy before cache: a cached answer must never skip a block, and a block or exception
    //    change applies to the very next query even for names already cached. A web proxy's name for
    //    another site is decided by that site here too, before it could reach the cache or upstream.
    policyStage(p.policy, p.timetable, p.blockResponse, p.blockTtl, p.exceptions, p.now, p.webProxy),
    // 3. ANY after the policy (an ANY for a blocked name is a blocked attempt, recorded as such) and
    //    before anything that could forward it: it gets the minimal RFC 8482 answer, never amplified.
    anyStage(),
    // 4. Safe search after the policy (a blocked engine stays blocked) and before the cache, whose
    //    entries are the engines' safe endpoints (resolved through stages 6-8), never the rewrite.
    safeSearchStage(p.safeSearch),
    // 5. Names answered here, after the policy (a local name can still be blocked) and before the
    //    cache (nothing to cache): local_records, and special-use names and private reverse zones,
    //    which must never reach the public upstreams.
    localStage(p.localRecords, p.routes),
    // 6. CNAME inspection around the cache: every answer, fresh or cached, is checked along its
    //    CNAME/DNAME/HTTPS chain with the client's policy now (the cache holds the upstream's answer,
    //    the same for every client; the chain's names were worked out once, when it was stored).
    ...(p.cnameInspection ? [chainInspectionStage(p.policy, p.timetable, p.blockResponse, p.blockTtl, p.exceptions)] : []),
    // 7. Cache only what the policy allowed; hits never reach the upstream.
    cacheStage(p.cache),
    // 8. Upstream last: the only stage that waits on the network; each name to its zone's pool.
    upstreamStage(p.routes),
  ]);
}
