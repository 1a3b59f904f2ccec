import { RCODE } from '../dns/constants.js';
import { WireError } from '../dns/errors.js';
import { inspectReply, type ReplyFacts } from '../dns/reply.js';
import { UpstreamError } from './errors.js';
import type { UpstreamTransport } from './transports.js';

export interface ForwarderOptions {
  /** In config order; plain, DoT and DoH mixed (failover and parallel treat them alike). */
  servers: UpstreamTransport[];
  strategy: 'failover' | 'parallel';
  timeoutMs: number;
  maxInFlight: number;
}

/** A usable upstream reply: the bytes to relay and what was read from them. */
export interface Forwarded {
  reply: Buffer;
  facts: ReplyFacts;
  upstream: string;
}

/** Observes each exchange with one upstream (for logs and metrics). */
export type ExchangeObserver = (upstream: string, outcome: string, seconds: number) => void;

/**
 * Sends a query to the upstreams and returns the first good reply. "Good" means well-formed,
 * matching, and not SERVFAIL/REFUSED (those make us try the next upstream), whichever transport
 * carried it (plain, DoT, DoH). TC=1 (plain DNS only) is retried over TCP to the same upstream. Failover tries upstreams in order, each with the full timeout; parallel asks
 * all at once. Throws UpstreamError when none gives a good reply: outcome "refused" only when every
 * upstream refused (the edge relays REFUSED), otherwise a failure (SERVFAIL); with the EDE options
 * an upstream gave, to relay.
 */
export class Forwarder {
  private inFlight = 0;
  private readonly names: string[];

  constructor(
    private readonly opts: ForwarderOptions,
    private readonly observe: ExchangeObserver = () => {},
  ) {
    this.names = opts.servers.map((s) => s.spec.name);
  }

  /** Upstream queries currently waiting. */
  get pending(): number {
    return this.inFlight;
  }

  async forward(query: Buffer, questionEnd: number): Promise<Forwarded> {
    if (this.inFlight >= this.opts.maxInFlight) {
      throw new UpstreamError(`${this.inFlight} upstream queries already in flight`, 'overload');
    }
    this.inFlight++;
    try {
      if (this.opts.strategy === 'parallel') {
        return await Promise.any(this.opts.servers.map((_, i) => this.ask(i, query, questionEnd))).catch((e: AggregateError) => {
          throw firstError(e.errors);
        });
      }
      const errors: unknown[] = [];
      for (let i = 0; i < this.opts.servers.length; i++) {
        try {
          return await this.ask(i, query, questionEnd);
        } catch (e) {
          errors.push(e);
        }
      }
      throw firstError(errors);
    } finally {
      this.inFlight--;
    }
  }

  private async ask(i: number, query: Buffer, questionEnd: number): Promise<Forwarded> {
    const server = this.opts.servers[i];
    const name = this.names[i];
    const started = performance.now();
    try {
      let reply = await server.exchange(query, questionEnd, this.opts.timeoutMs);
      let facts = inspect(reply, questionEnd, name);
      if (facts.truncated && server.retryTruncated) {
        const left = Math.max(50, this.opts.timeoutMs - (performance.now() - started));
        reply = await server.retryTruncated(query, questionEnd, left);
        facts = inspect(reply, questionEnd, name);
      }
      if (facts.rcode === RCODE.SERVFAIL || facts.rcode === RCODE.REFUSED) {
        throw new UpstreamError(
          `${name} answered ${facts.rcode === RCODE.SERVFAIL ? 'SERVFAIL' : 'REFUSED'}`,
          facts.rcode === RCODE.SERVFAIL ? 'servfail' : 'refused',
          facts.ede,
        );
      }
      this.observe(name, 'ok', (performance.now() - started) / 1000);
      return { reply, facts, upstream: name };
    } catch (e) {
      this.observe(name, e instanceof UpstreamError ? e.outcome : 'network', (performance.now() - started) / 1000);
      throw e;
    }
  }
}

function inspect(reply: Buffer, questionEnd: number, server: string): ReplyFacts {
  try {
    return inspectReply(reply, questionEnd, true);
  } catch (e) {
    if (e instanceof WireError) throw new UpstreamError(`malformed reply from ${server}: ${e.message}`, 'malformed');
    throw e;
  }
}

/**
 * One error for the whole attempt: "refused" when every upstream refused, else the first failure's
 * outcome; the EDE options of the first upstream that gave some (a refusal's only when all refused).
 */
function firstError(errors: unknown[]): Error {
  const upstream = errors.filter((x): x is UpstreamError => x instanceof UpstreamError);
  const allRefused = upstream.length === errors.length && upstream.every((x) => x.outcome === 'refused');
  const failure = upstream.find((x) => x.outcome !== 'refused');
  const ede = upstream.find((x) => x.ede && (allRefused || x.outcome !== 'refused'))?.ede ?? null;
  return new UpstreamError(
    `all upstreams ${allRefused ? 'refused' : 'failed'}: ${errors.map((x) => (x as Error).message).join('; ')}`,
    allRefused ? 'refused' : (failure?.outcome ?? 'network'),
    ede,
  );
}
