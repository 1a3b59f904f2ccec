import { readFileSync, statSync } from 'node:fs';
import { PtrNames, type PtrConfig } from './ptr-names.js';
import { leasesText, parseDnsmasqLeases, parseIscLeases, parseWindowsCsvLeases, type Lease } from './leases.js';

/** The leases file formats `clients.leases.format` names, each with its parser. */
const PARSERS = { dnsmasq: parseDnsmasqLeases, isc: parseIscLeases, 'windows-csv': parseWindowsCsvLeases };
export type LeasesFormat = keyof typeof PARSERS;

export interface DeviceConfig {
  /** IP or MAC (any case) → name. */
  names: Record<string, string>;
  leases: { file: string; format: LeasesFormat } | null;
  /** `clients.names_from_ptr`: where to look names up, or null/absent when off. */
  ptr?: PtrConfig | null;
}

/** How often the leases file's modification time is checked. */
const LEASES_CHECK_MS = 5000;

/**
 * Names the device behind an address at the time of the query: a configured name for its IP, else a
 * configured name for its MAC (from the DHCP leases), else the DHCP hostname, else (with
 * `names_from_ptr`) its PTR name, else "". The leases file is re-read when its modification time
 * changes; a read error keeps the last copy.
 */
export class DeviceNames {
  private readonly byKey = new Map<string, string>();
  private leases = new Map<string, Lease>();
  private leasesMtime = -1;
  private lastCheck = -Infinity;
  /** The last error reading the leases file, or null. */
  leasesError: string | null = null;
  private readonly ptr: PtrNames | null;

  constructor(
    private readonly cfg: DeviceConfig,
    private readonly now: () => number = Date.now,
  ) {
    for (const [k, v] of Object.entries(cfg.names)) this.byKey.set(k.toLowerCase(), v);
    this.refresh(true);
    this.ptr = cfg.ptr ? new PtrNames(cfg.ptr, now) : null;
  }

  name(address: string): string {
    return this.known(address) || (this.ptr?.name(address) ?? '');
  }

  /**
   * With `names_from_ptr`: looks up the PTRs of the addresses among `clients` that have no
   * configured or DHCP name and no fresh answer, so the rows made next carry their names. The
   * writer thread awaits this before turning a batch into rows (bounded by the zone servers'
   * timeouts); the DNS thread never does. Resolves at once when there is nothing to look up.
   */
  lookUpNames(clients: Iterable<string>): Promise<void> {
    if (!this.ptr) return Promise.resolve();
    const need = new Set<string>();
    for (const c of clients) if (!need.has(c) && this.known(c) === '' && this.ptr.stale(c)) need.add(c);
    return need.size > 0 ? this.ptr.lookup([...need]) : Promise.resolve();
  }

  /** Closes the PTR lookup sockets. */
  close(): void {
    this.ptr?.close();
  }

  /** The configured or DHCP name of an address, or "". */
  private known(address: string): string {
    const direct = this.byKey.get(address);
    if (direct !== undefined) return direct;
    if (!this.cfg.leases) return '';
    this.refresh(false);
    const lease = this.leases.get(address);
    if (!lease) return '';
    return this.byKey.get(lease.mac) ?? lease.hostname;
  }

  private refresh(force: boolean): void {
    if (!this.cfg.leases) return;
    const t = this.now();
    if (!force && t - this.lastCheck < LEASES_CHECK_MS) return;
    this.lastCheck = t;
    try {
      const mtime = statSync(this.cfg.leases.file).mtimeMs;
      if (mtime === this.leasesMtime) return;
      this.leases = PARSERS[this.cfg.leases.format](leasesText(readFileSync(this.cfg.leases.file)));
      this.leasesMtime = mtime;
      this.leasesError = null;
    } catch (e) {
      this.leasesError = (e as Error).message;
    }
  }
}
