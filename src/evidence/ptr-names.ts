import { createRequire } from 'node:module';
import type { HostPort } from '../config/host-port.js';
import { buildQuery } from '../dns/build-query.js';
import { RCODE, TYPE } from '../dns/constants.js';
import { LocalRecords } from '../dns/local-records.js';
import { reverseName } from '../dns/reverse-name.js';
import { parseIp } from '../net/ip.js';
import { Forwarder } from '../upstream/forwarder.js';
import { UpstreamRoutes } from '../upstream/routes.js';
import { UdpExchange } from '../upstream/udp-exchange.js';
import { UpstreamTransports } from '../upstream/transports.js';
import { plainUpstream } from '../config/upstream-spec.js';

/** What `clients.names_from_ptr` needs: where reverse names go, and the upstream rules. */
export interface PtrConfig {
  zones: { zone: string; servers: HostPort[] }[];
  localRecords: Record<string, string | string[]>;
  strategy: 'failover' | 'parallel';
  timeoutMs: number;
}

/** dns2 (for reading the PTR answer) is loaded on first lookup, not when the writer thread starts. */
let dns2: typeof import('dns2') | undefined;
const loadDns2 = () => (dns2 ??= createRequire(import.meta.url)('dns2') as typeof import('dns2'));

/** A name found is kept for its TTL within these bounds (seconds). */
const MIN_TTL = 60;
const MAX_TTL = 3600;
/** No name (NXDOMAIN, no PTR, no zone for the address, servers down) is remembered this long. */
const NEGATIVE_MS = 300_000;
/** Addresses remembered at most (a school has a few thousand devices). */
const MAX_ENTRIES = 50_000;
/** Lookups of one batch at once. */
const MAX_PARALLEL = 64;

/**
 * Device names from DNS: the PTR name of a client address that has no configured or DHCP name,
 * asked of the `upstream.zones` servers its reverse name routes to (the domain controllers know
 * every domain-joined PC), or taken from `local_records`. Never through the main upstreams: a
 * client's address is not the public resolver's business. The name kept is the PTR name's first
 * label ("y9-lt-07.school.local." → "y9-lt-07"), as DHCP records hostnames. Runs in the evidence
 * writer thread, never on the DNS thread.
 */
export class PtrNames {
  private readonly cache = new Map<string, { name: string; until: number }>();
  private readonly transports = new UpstreamTransports(new UdpExchange());
  private readonly routes: UpstreamRoutes<Forwarder | null>;
  private readonly local: LocalRecords;
  /** Lookups sent so far (for tests and logs). */
  lookups = 0;

  constructor(
    cfg: PtrConfig,
    private readonly now: () => number = Date.now,
  ) {
    const pool = (servers: HostPort[]) =>
      new Forwarder({
        servers: servers.map((s) => this.transports.use(plainUpstream(s), null)),
        strategy: cfg.strategy,
        timeoutMs: cfg.timeoutMs,
        maxInFlight: MAX_PARALLEL,
      });
    this.routes = new UpstreamRoutes<Forwarder | null>(
      null,
      cfg.zones.map((z) => ({ zone: z.zone, value: pool(z.servers) })),
    );
    this.local = new LocalRecords(cfg.localRecords);
  }

  /** The name found for an address, or "" (none, or not looked up yet). */
  name(address: string): string {
    const e = this.cache.get(address);
    return e && e.until > this.now() ? e.name : '';
  }

  /** True when the address has no fresh answer (named or not) and should be looked up. */
  stale(address: string): boolean {
    const e = this.cache.get(address);
    return !e || e.until <= this.now();
  }

  /** Looks up every stale address, at most MAX_PARALLEL at a time; never rejects. */
  async lookup(addresses: readonly string[]): Promise<void> {
    for (let i = 0; i < addresses.length; i += MAX_PARALLEL) {
      await Promise.all(addresses.slice(i, i + MAX_PARALLEL).map((a) => this.lookupOne(a)));
    }
  }

  /** Closes the lookup sockets. */
  close(): void {
    this.transports.close();
  }

  private async lookupOne(address: string): Promise<void> {
    const ip = parseIp(address);
    if (!ip) return this.remember(address, '', NEGATIVE_MS);
    const rev = reverseName(ip);
    const configured = this.local.get(rev);
    if (configured) return this.remember(address, firstLabel(configured.text[0]), MAX_TTL * 1000);
    const route = this.routes.route(rev);
    if (route.kind !== 'zone' || !route.value) return this.remember(address, '', NEGATIVE_MS);
    const { wire, questionEnd } = buildQuery(rev, TYPE.PTR);
    this.lookups++;
    try {
      const { reply, facts } = await route.value.forward(wire, questionEnd);
      const ptr =
        facts.rcode === RCODE.NOERROR
          ? loadDns2()
              .Packet.parse(reply)
              .answers.find((a) => a.type === TYPE.PTR)
          : undefined;
      const name = ptr ? firstLabel(String(ptr.domain)) : '';
      if (!name) return this.remember(address, '', NEGATIVE_MS);
      const ttl = Math.min(MAX_TTL, Math.max(MIN_TTL, Number(ptr!.ttl) || 0));
      this.remember(address, name, ttl * 1000);
    } catch {
      this.remember(address, '', NEGATIVE_MS);
    }
  }

  private remember(address: string, name: string, forMs: number): void {
    this.cache.delete(address);
    this.cache.set(address, { name, until: this.now() + forMs });
    if (this.cache.size > MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** "y9-lt-07.school.local." → "y9-lt-07" (a device's name, as DHCP records it). */
function firstLabel(name: string): string {
  const dot = name.indexOf('.');
  return (dot < 0 ? name : name.slice(0, dot)).slice(0, 100);
}
