import type { AnswerCache } from '../cache/answer-cache.js';
import type { ClientDirectory } from '../policy/clients.js';
import type { Policy } from '../policy/policy.js';
import type { Timetable } from '../schedule/timetable.js';
import type { Forwarder } from '../upstream/forwarder.js';
import type { BlockResponse } from './block-answer.js';
import { cacheStage } from './cache-stage.js';
import { clientStage } from './client-stage.js';
import { policyStage, type ExceptionsHolder } from './policy-stage.js';
import { upstreamStage } from './upstream-stage.js';
import { safeSearchStage } from './safe-search-stage.js';
import { compose, type Next } from './types.js';

export interface ChainParts {
  directory: ClientDirectory;
  policy: Policy;
  timetable: Timetable;
  blockResponse: BlockResponse;
  blockTtl: number;
  cache: AnswerCache;
  forwarder: Forwarder;
  exceptions: ExceptionsHolder;
  now: () => number;
  /** Group → safe-search rewrites, for groups with safe_search. */
  safeSearch: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/**
 * The query path, declared once. Wire parsing happens at the server edge before this chain (the
 * context is built from the parsed question), so every stage here sees a well-formed query.
 */
export function buildChain(p: ChainParts): Next {
  return compose([
    // 1. Who is asking: refuse outsiders first, before any work is spent on them; the group found
    //    here is what the policy decides by.
    clientStage(p.directory),
    // 2. Policy before cache: a cached answer must never skip a block, and a block or exception
    //    change applies to the very next query even for names already cached.
    policyStage(p.policy, p.timetable, p.blockResponse, p.blockTtl, p.exceptions, p.now),
    // 3. Safe search after the policy (a blocked engine stays blocked) and before the cache, whose
    //    entries are the engines' safe endpoints (resolved through stages 4-5), never the rewrite.
    safeSearchStage(p.safeSearch),
    // 4. Cache only what the policy allowed; hits never reach the upstream.
    cacheStage(p.cache),
    // 5. Upstream last: the only stage that waits on the network.
    upstreamStage(p.forwarder),
  ]);
}
