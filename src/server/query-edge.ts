import type { Logger } from 'pino';
import { RCODE } from '../dns/constants.js';
import { WireError } from '../dns/errors.js';
import { clientUdpLimit, parseQuery, type ParsedQuery } from '../dns/query.js';
import { errorResponse, fitUdp, headerOnlyResponse } from '../dns/response.js';
import type { QueryLog } from '../observe/query-event.js';
import { NO_GROUP, resultIndex, type QueryStats } from '../observe/query-stats.js';
import type { Answer, Next, QueryContext } from '../pipeline/types.js';
import { UpstreamError } from '../upstream/errors.js';
import type { RateLimiter } from './rate-limiter.js';

/** Sends one reply back on the transport the query came in on; null = no reply (dropped). */
export type Respond = (wire: Buffer | null) => void;

const RCODE_REASON: Record<number, string> = {
  [RCODE.FORMERR]: 'formerr',
  [RCODE.NOTIMP]: 'notimp',
  [RCODE.BADVERS]: 'badvers',
};

/**
 * The server edge: admits the packet (per-client rate limit), parses it, runs the chain of the
 * current runtime, and is the only place where failures become rcodes (unreadable → dropped,
 * malformed → FORMERR, other opcodes → NOTIMP, EDNS version ≠ 0 → BADVERS, every upstream refusing
 * → REFUSED, anything else thrown by the chain → SERVFAIL; upstream EDE relayed). Error replies keep
 * the question when it was readable and carry an OPT when the query had a valid one. A UDP reply is
 * fitted to min(client's EDNS size, 1232) — 512 without EDNS — whatever the chain built.
 * Counts every answer in `stats` (the metrics) and hands every answered query to `events` (the
 * evidence store's queue), without making an object per query; never throws.
 */
export class QueryEdge {
  /** Queries received but not yet answered. */
  inFlight = 0;

  constructor(
    private chain: Next,
    private readonly stats: QueryStats,
    private readonly events: QueryLog,
    private readonly log: Logger,
    private readonly limiter: RateLimiter,
  ) {}

  /** Swaps in the chain of a new runtime; queries already running finish on the old one. */
  setChain(chain: Next): void {
    this.chain = chain;
  }

  handle(raw: Buffer, transport: 'udp' | 'tcp', address: string, respond: Respond): void {
    // Admission before any parsing, so a flood costs one map lookup per packet. Over-limit packets
    // publish no event (a flood must not become a flood of events); the limiter counts them.
    if (!this.limiter.allow(address)) {
      // REFUSED is header only: never larger than the query (no amplification); never answer a response (QR=1).
      if (this.limiter.action === 'refuse' && raw.length >= 12 && (raw[2] & 0x80) === 0)
        respond(headerOnlyResponse(raw, RCODE.REFUSED));
      else respond(null);
      return;
    }
    const started = performance.now();
    let q: ParsedQuery;
    try {
      q = parseQuery(raw);
    } catch (e) {
      const rcode = e instanceof WireError ? e.rcode : null;
      const partial = e instanceof WireError ? e.query : null;
      if (rcode === null) respond(null);
      else respond(partial ? errorResponse(raw, partial, rcode) : headerOnlyResponse(raw, rcode));
      this.countUnparsed(started, transport, rcode === null ? 'dropped' : (RCODE_REASON[rcode] ?? 'formerr'), partial);
      return;
    }
    const at = Date.now();
    // Every field present from the start: one object shape for every query (later stages fill them in).
    const ctx: QueryContext = {
      raw,
      transport,
      address,
      q,
      client: undefined,
      group: undefined,
      at: undefined,
      ttlCap: undefined,
    };
    this.inFlight++;
    let result: Answer | Promise<Answer>;
    try {
      result = this.chain(ctx);
    } catch (e) {
      this.fail(ctx, e, at, started, respond);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (a) => this.finish(ctx, a, at, started, respond),
        (e) => this.fail(ctx, e, at, started, respond),
      );
    } else {
      this.finish(ctx, result, at, started, respond);
    }
  }

  private finish(ctx: QueryContext, a: Answer, at: number, started: number, respond: Respond): void {
    this.inFlight--;
    let wire = a.wire;
    // RFC 1035 §4.2.1 / RFC 6891 §6.2.5: never send a UDP client more than it can take; TC=1 sends it to TCP.
    if (ctx.transport === 'udp') wire = fitUdp(ctx.raw, ctx.q, wire, clientUdpLimit(ctx.q));
    try {
      respond(wire);
    } catch (e) {
      // A closed socket must not turn into an unhandled rejection: the daemon never dies on a packet.
      this.log.warn({ err: e }, 'could not send reply');
    }
    const duration = (performance.now() - started) / 1000;
    const rcode = wire[3] & 0xf;
    const stats = this.stats;
    const group = stats.group(ctx.client?.group.name ?? NO_GROUP);
    if (ctx.q.qtype !== 0 || ctx.q.qname !== '') stats.query(group, ctx.transport === 'tcp' ? 1 : 0, ctx.q.qtype);
    const result = resultIndex(a.kind === 'error' ? a.reason : a.kind);
    if (result >= 0) stats.response(group, result, duration);
    if (a.kind === 'blocked') stats.blocked(group, a.reason);
    this.events.record(at, duration, ctx, a, rcode);
  }

  private fail(ctx: QueryContext, e: unknown, at: number, started: number, respond: Respond): void {
    if (!(e instanceof UpstreamError)) this.log.error({ err: e, qname: ctx.q.qname }, 'query failed');
    else this.log.debug({ qname: ctx.q.qname, reason: e.message }, 'upstream failed');
    // Every upstream refusing is their policy, not a failure: say so (REFUSED), with their EDE.
    const refused = e instanceof UpstreamError && e.outcome === 'refused';
    const ede = e instanceof UpstreamError ? e.ede : null;
    this.finish(
      ctx,
      {
        wire: errorResponse(ctx.raw, ctx.q, refused ? RCODE.REFUSED : RCODE.SERVFAIL, ede),
        kind: 'error',
        reason: refused ? 'upstream-refused' : 'servfail',
      },
      at,
      started,
      respond,
    );
  }

  /** Counts a packet refused as unparseable (dropped, FORMERR, NOTIMP, BADVERS); the store keeps none. */
  private countUnparsed(started: number, transport: 'udp' | 'tcp', reason: string, partial: ParsedQuery | null): void {
    const stats = this.stats;
    if (reason === 'dropped') {
      stats.dropped++;
      return;
    }
    const group = stats.group(NO_GROUP);
    if (partial && (partial.qtype !== 0 || partial.qname !== '')) stats.query(group, transport === 'tcp' ? 1 : 0, partial.qtype);
    const result = resultIndex(reason);
    if (result >= 0) stats.response(group, result, (performance.now() - started) / 1000);
  }
}
