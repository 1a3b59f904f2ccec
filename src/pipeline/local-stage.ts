import { CLASS_IN, RCODE, TYPE } from '../dns/constants.js';
import type { LocalRecords } from '../dns/local-records.js';
import { authoritative, negativeResponse, recordsResponse } from '../dns/response.js';
import type { UpstreamRoutes } from '../upstream/routes.js';
import type { Stage } from './types.js';

/** TTL of local records and of the special-use NXDOMAIN (short: a zone added later takes effect soon). */
export const LOCAL_TTL = 300;

/**
 * Names answered here, for every group, before the cache: `local_records` (A, AAAA, the matching
 * PTR; NODATA for other types of those names) and the special-use names and private reverse zones
 * that no `upstream.zones` entry forwards (NXDOMAIN: they must never reach the public upstreams).
 * Both are authoritative answers (AA), counted as "local".
 */
export function localStage(records: LocalRecords, routes: UpstreamRoutes<unknown>): Stage {
  return (ctx, next) => {
    const { q } = ctx;
    const rec = q.qclass === CLASS_IN ? records.get(q.qname) : undefined;
    if (rec) {
      const rdatas = q.qtype === TYPE.A ? rec.a : q.qtype === TYPE.AAAA ? rec.aaaa : q.qtype === TYPE.PTR ? rec.ptr : [];
      const wire =
        rdatas.length > 0
          ? recordsResponse(ctx.raw, q, rdatas, LOCAL_TTL)
          : negativeResponse(ctx.raw, q, RCODE.NOERROR, LOCAL_TTL);
      return { wire: authoritative(wire), kind: 'local', reason: 'record', response: rdatas.length > 0 ? 'records' : 'NODATA' };
    }
    const route = routes.route(q.qname);
    if (route.kind !== 'local') return next(ctx);
    return {
      wire: authoritative(negativeResponse(ctx.raw, q, RCODE.NXDOMAIN, LOCAL_TTL)),
      kind: 'local',
      reason: 'special-use',
      response: 'NXDOMAIN',
    };
  };
}
